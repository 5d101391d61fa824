"""Index key rotation: move every blind index to the current index key version, then retire.

A blind index cannot be re-keyed from itself: each row's number is decrypted (under its
person's data key) and indexed again. Rows are moved a number at a time: every row of every
registered kind that holds the same old index moves with it, in the same transaction, so two
rows that named the same number still name the same number after each commit (a contact who
is also a subscriber, two people trusting the same contact). Look-ups match every version in
the ring meanwhile (`Vault.blind_indexes`), so nobody goes unfound mid-rotation.

Models register the columns here (`register_blind_index`, `register_peppered`); a flush stamps
new rows with the version their index was computed under.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ScalarResult, Select, event, func, select, update
from sqlalchemy.orm import Session

from server.vault.core import Vault, hash_index_key_id
from server.vault.envelopes import VaultError
from server.vault.fields import VaultUnavailable
from server.vault.rotation import Sessions


@dataclass(frozen=True)
class IndexedColumn:
    """A model's blind index, the column naming its index key version, and the number it hides."""

    model: type
    index_attribute: str = "phone_index"
    key_id_attribute: str = "phone_index_key"
    #: The attribute that decrypts to the E.164 number the index was computed from.
    value_attribute: str = "phone"

    @property
    def table(self) -> str:
        """The table's name, as reports give it."""
        return str(getattr(self.model, "__tablename__"))  # noqa: B009


@dataclass(frozen=True)
class PepperedColumn:
    """Attributes holding PIN or password hashes made with an index key version's pepper."""

    model: type
    attributes: tuple[str, ...]


_INDEXED: list[IndexedColumn] = []
_PEPPERED: list[PepperedColumn] = []


def register_blind_index(model: type, **names: str) -> None:
    """Declare a model's blind index, so rotation re-indexes it and new rows are stamped."""
    _INDEXED.append(IndexedColumn(model, **names))


def register_peppered(model: type, *attributes: str) -> None:
    """Declare a model's peppered hashes, so retiring a version counts those it would break."""
    _PEPPERED.append(PepperedColumn(model, attributes))


def indexed_columns() -> tuple[IndexedColumn, ...]:
    """Every registered blind index."""
    return tuple(_INDEXED)


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    """A new row's index was computed under the current version: its key id says so."""
    keys = session.info.get("vault")
    if not isinstance(keys, Vault):
        return
    for row in session.new:
        for column in _INDEXED:
            if isinstance(row, column.model) and getattr(row, column.key_id_attribute) is None:
                setattr(row, column.key_id_attribute, keys.index_key_id)


def _vault(database: Sessions) -> Vault:
    if database.vault is None:
        raise VaultUnavailable("index rotation needs a Database with a Vault")
    return database.vault


@dataclass
class ReindexReport:
    """Per table, how many rows now hold an index under the current version, and failures."""

    current: str
    moved: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    #: Why the first row that could not be moved could not.
    error: VaultError | None = None


def pending_reindex(database: Sessions) -> dict[str, int]:
    """Per table, how many rows hold a blind index under an older version."""
    current = _vault(database).index_key_id
    counts: dict[str, int] = {}
    with database.session() as session:
        for column in _INDEXED:
            key_id = getattr(column.model, column.key_id_attribute)
            statement = select(func.count()).select_from(column.model).where(key_id != current)
            counts[column.table] = int(session.scalar(statement) or 0)
    return counts


def reindex(
    database: Sessions, batch_size: int = 500, on_batch: Callable[[int], None] | None = None
) -> ReindexReport:
    """Index every row again under the current version, a batch at a time (resumable)."""
    keys = _vault(database)
    report = ReindexReport(keys.index_key_id)
    for column in _INDEXED:
        report.moved.setdefault(column.table, 0)
        report.failed.setdefault(column.table, 0)
        for session, rows in _stale_batches(database, column, keys.index_key_id, batch_size):
            done = sum(_reindex_row(session, keys, column, row, report) for row in rows)
            if on_batch and done:
                on_batch(done)
    return report


def _stale_batches(
    database: Sessions, column: IndexedColumn, current: str, batch_size: int
) -> Iterator[tuple[Session, list[Any]]]:
    """Batches of rows under an older version, each in a session committed after it is used;
    keyset paging, so a row that could not be moved is not read again in the same run."""
    ids = column.model.id  # type: ignore[attr-defined]
    key_id = getattr(column.model, column.key_id_attribute)
    after: uuid.UUID | None = None
    while True:
        with database.session() as session:
            statement: Select[Any] = select(column.model).where(key_id != current).order_by(ids)
            if after is not None:
                statement = statement.where(ids > after)
            rows = list(session.scalars(statement.limit(batch_size)))
            if not rows:
                return
            after = rows[-1].id
            yield session, rows


def _reindex_row(
    session: Session, keys: Vault, column: IndexedColumn, row: Any, report: ReindexReport
) -> int:
    """Move the row, and every row naming the same number, to the current version: how many
    rows moved (1 for a row that could not be, counted as failed)."""
    old: bytes = getattr(row, column.index_attribute)
    if getattr(row, column.key_id_attribute) == keys.index_key_id:
        return 0  # moved earlier in this batch, with a row that named the same number
    try:
        new = keys.blind_index(getattr(row, column.value_attribute))
    except VaultError as error:
        report.failed[column.table] += 1
        report.error = report.error or error
        return 1
    moved = 0
    for other in _INDEXED:
        index = getattr(other.model, other.index_attribute)
        key_id = getattr(other.model, other.key_id_attribute)
        result = session.execute(
            update(other.model)
            .where(index == old, key_id != keys.index_key_id)
            .values({other.index_attribute: new, other.key_id_attribute: keys.index_key_id}),
            execution_options={"synchronize_session": "fetch"},
        )
        count = int(getattr(result, "rowcount", 0) or 0)
        report.moved[other.table] = report.moved.get(other.table, 0) + count
        moved += count
    return moved


def retirement_blockers(database: Sessions, key_id: str) -> dict[str, int]:
    """What still needs this index key version: rows indexed under it, and PIN or password
    hashes made with its pepper (they stop matching once it goes). Empty: it can go."""
    keys = _vault(database)
    if key_id == keys.index_key_id:
        raise VaultError(f"index key {key_id!r} is the current version; add a newer one first")
    blockers: dict[str, int] = {}
    with database.session() as session:
        for column in _INDEXED:
            stored = getattr(column.model, column.key_id_attribute)
            count = session.scalar(
                select(func.count()).select_from(column.model).where(stored == key_id)
            )
            if count:
                blockers[f"{column.table}: blind indexes"] = int(count)
        for peppered in _PEPPERED:
            rows: ScalarResult[Any] = session.scalars(select(peppered.model))
            count = sum(
                _made_under(getattr(row, attribute), key_id)
                for row in rows
                for attribute in peppered.attributes
            )
            if count:
                table = getattr(peppered.model, "__tablename__")  # noqa: B009
                blockers[f"{table}: {', '.join(peppered.attributes)}"] = count
    return blockers


def _made_under(hashed: str | None, key_id: str) -> bool:
    return bool(hashed) and hash_index_key_id(hashed or "")[0] == key_id
