"""search documents carry their resource's region, categories and languages; content version

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ('region_id', 'categories', 'languages')


def upgrade() -> None:
    # The content version (server.models.versions): one row, a random token that every
    # write of content replaces, so that per-process caches of content know to start again.
    op.create_table('content_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_versions'))
    )
    op.execute(
        sa.text("INSERT INTO content_versions (id, token) VALUES (1, :token)").bindparams(
            token=secrets.token_hex(16)
        )
    )
    op.add_column('search_documents', sa.Column('region_id', sa.Integer(), nullable=True))
    op.add_column('search_documents', sa.Column('categories', sa.Text(), server_default=' ', nullable=False))
    op.add_column('search_documents', sa.Column('languages', sa.Text(), server_default=' ', nullable=False))
    # Fill them as server.content.search.index_resource writes them: values separated by a
    # space, with a space at each end, a lone space for none (their order does not matter).
    joined = 'group_concat({0}, \' \')' if op.get_bind().dialect.name == 'sqlite' else 'string_agg({0}, \' \')'
    op.execute(
        "UPDATE search_documents SET "
        "region_id = (SELECT resources.region_id FROM resources "
        "WHERE resources.id = search_documents.resource_id), "
        f"categories = ' ' || coalesce((SELECT {joined.format('category')} || ' ' FROM resource_categories "
        "WHERE resource_categories.resource_id = search_documents.resource_id), ''), "
        f"languages = ' ' || coalesce((SELECT {joined.format('code')} || ' ' FROM resource_languages "
        "WHERE resource_languages.resource_id = search_documents.resource_id), '')"
    )


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35 and later): a batch copy of the table would drop the
    # triggers that keep the FTS5 index in step with it.
    for name in reversed(COLUMNS):
        op.execute(f'ALTER TABLE search_documents DROP COLUMN {name}')
    op.drop_table('content_versions')
