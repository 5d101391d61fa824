"""The search index: one folded text document per resource and locale.

SQLite searches it through an FTS5 table with the trigram tokenizer (works for scripts written
without spaces, like Burmese); PostgreSQL through a pg_trgm GIN index. Both are created by the
migration and, in tests, by the DDL attached here.
"""

from __future__ import annotations

from sqlalchemy import DDL, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base
from server.models.versions import ContentModel

FTS_TABLE = "search_fts"
TRGM_INDEX = "ix_search_documents_body_trgm"


class SearchDocument(ContentModel, Base):
    """What search reads for one resource in one locale: folded name, description and more."""

    __tablename__ = "search_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    # Copies of what search filters on, kept beside the text so that a filtered search reads
    # no other table for each match; the resource stays the authority, and every hit is
    # checked against it. Categories and language codes are space-separated, with a space at
    # each end (" medical shelter ", " " for none), so one is found with instr().
    region_id: Mapped[int | None] = mapped_column(Integer)
    categories: Mapped[str] = mapped_column(Text, server_default=" ")
    languages: Mapped[str] = mapped_column(Text, server_default=" ")


Index(
    TRGM_INDEX,
    SearchDocument.body,
    postgresql_using="gin",
    postgresql_ops={"body": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")

#: SQLite: an external-content FTS5 table kept in step with search_documents by triggers.
SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "body, content='search_documents', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
)
SQLITE_FTS_DROP = "DROP TABLE IF EXISTS search_fts"
POSTGRES_EXTENSION_DDL = "CREATE EXTENSION IF NOT EXISTS pg_trgm"


def _on(event_name: str, statement: str, dialect: str) -> None:
    ddl = DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]
    event.listen(SearchDocument.__table__, event_name, ddl)


_on("before_create", POSTGRES_EXTENSION_DDL, "postgresql")
for _statement in SQLITE_FTS_DDL:
    _on("after_create", _statement, "sqlite")
_on("after_drop", SQLITE_FTS_DROP, "sqlite")
