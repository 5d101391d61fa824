"""content

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = (
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


def upgrade() -> None:
    op.create_table('checklists',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('platform', sa.String(length=64), nullable=False),
    sa.Column('platform_version', sa.String(length=200), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('source_locale', sa.String(length=16), server_default='en', nullable=False),
    sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('origin', sa.String(length=16), server_default='files', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklists'))
    )
    op.create_table('organizations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('alternate_name', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('source_locale', sa.String(length=16), server_default='en', nullable=False),
    sa.Column('sample', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('origin', sa.String(length=16), server_default='files', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations'))
    )
    op.create_table('regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('country', 'area', 'site', name='regionkind', native_enum=False, length=24), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('default_locale', sa.String(length=16), nullable=False),
    sa.Column('source_locale', sa.String(length=16), server_default='en', nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('hide_stale', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['regions.id'], name=op.f('fk_regions_parent_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('slug', name=op.f('uq_regions_slug'))
    )
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_parent_id'), ['parent_id'], unique=False)

    op.create_table('translations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=128), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source_digest', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('draft', 'reviewed', name='translationstatus', native_enum=False, length=16), server_default='draft', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translations')),
    sa.UniqueConstraint('entity', 'entity_id', 'field', 'locale', name=op.f('uq_translations_entity_entity_id_field_locale'))
    )
    op.create_table('bulletins',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('alert', 'advisory', 'context', name='bulletinkind', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('draft', 'in_review', 'published', 'retracted', name='bulletinstatus', native_enum=False, length=24), server_default='draft', nullable=False),
    sa.Column('severity', sa.Enum('extreme', 'severe', 'moderate', 'minor', 'unknown', name='severity', native_enum=False, length=24), server_default='unknown', nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=True),
    sa.Column('organization_id', sa.String(length=64), nullable=True),
    sa.Column('source_locale', sa.String(length=16), server_default='en', nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cap_identifier', sa.String(length=500), nullable=True),
    sa.Column('cap_sender', sa.String(length=500), nullable=True),
    sa.Column('cap_references', sa.Text(), nullable=True),
    sa.Column('sample', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('origin', sa.String(length=16), server_default='files', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_bulletins_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletins')),
    sa.UniqueConstraint('cap_sender', 'cap_identifier', name=op.f('uq_bulletins_cap_sender_cap_identifier'))
    )
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulletins_expires_at'), ['expires_at'], unique=False)

    op.create_table('checklist_steps',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('checklist_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('web_text', sa.Text(), nullable=False),
    sa.Column('sms_text', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['checklist_id'], ['checklists.id'], name=op.f('fk_checklist_steps_checklist_id_checklists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_steps'))
    )
    with op.batch_alter_table('checklist_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_steps_checklist_id'), ['checklist_id'], unique=False)

    op.create_table('resources',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('organization_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('alternate_name', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('active', 'inactive', 'defunct', 'temporarily closed', name='servicestatus', native_enum=False, length=24), server_default='active', nullable=False),
    sa.Column('source_locale', sa.String(length=16), server_default='en', nullable=False),
    sa.Column('verified_on', sa.Date(), nullable=False),
    sa.Column('verified_by', sa.String(length=200), nullable=False),
    sa.Column('review_interval_days', sa.Integer(), server_default='90', nullable=False),
    sa.Column('sample', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('origin', sa.String(length=16), server_default='files', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_resources_organization_id_organizations')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_resources_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resources'))
    )
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resources_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resources_region_id'), ['region_id'], unique=False)

    op.create_table('bulletin_regions',
    sa.Column('bulletin_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_bulletin_regions_bulletin_id_bulletins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_bulletin_regions_region_id_regions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bulletin_id', 'region_id', name=op.f('pk_bulletin_regions'))
    )
    op.create_table('context_phrases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bulletin_id', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('phrase', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_context_phrases_bulletin_id_bulletins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_context_phrases'))
    )
    with op.batch_alter_table('context_phrases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_context_phrases_bulletin_id'), ['bulletin_id'], unique=False)

    op.create_table('locations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('city', sa.String(length=200), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('confidential', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('call_first_phone', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_locations_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations_resource_id'), ['resource_id'], unique=False)

    op.create_table('phones',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('voice', 'text', 'whatsapp', name='phonekind', native_enum=False, length=24), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_phones_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phones'))
    )
    with op.batch_alter_table('phones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phones_resource_id'), ['resource_id'], unique=False)

    op.create_table('resource_categories',
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.Enum('helpline', 'medical', 'shelter', 'food_water', 'legal_aid', 'documentation', 'psychosocial', 'protection', 'evacuation', 'family_tracing', name='category', native_enum=False, length=24), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_resource_categories_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resource_id', 'category', name=op.f('pk_resource_categories'))
    )
    op.create_table('resource_languages',
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_resource_languages_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resource_id', 'code', name=op.f('pk_resource_languages'))
    )
    op.create_table('schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('byday', sa.String(length=64), nullable=False),
    sa.Column('opens_at', sa.Time(), nullable=True),
    sa.Column('closes_at', sa.Time(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_schedules_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules'))
    )
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedules_resource_id'), ['resource_id'], unique=False)

    op.create_table('search_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_search_documents_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents'))
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_documents_resource_id'), ['resource_id'], unique=False)

    # Search: FTS5 with the trigram tokenizer on SQLite; pg_trgm's GIN index on PostgreSQL.
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_search_documents_body_trgm ON search_documents "
            "USING gin (body gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_documents_body_trgm")
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_documents_resource_id'))

    op.drop_table('search_documents')
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedules_resource_id'))

    op.drop_table('schedules')
    op.drop_table('resource_languages')
    op.drop_table('resource_categories')
    with op.batch_alter_table('phones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phones_resource_id'))

    op.drop_table('phones')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_resource_id'))

    op.drop_table('locations')
    with op.batch_alter_table('context_phrases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_context_phrases_bulletin_id'))

    op.drop_table('context_phrases')
    op.drop_table('bulletin_regions')
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resources_region_id'))
        batch_op.drop_index(batch_op.f('ix_resources_organization_id'))

    op.drop_table('resources')
    with op.batch_alter_table('checklist_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checklist_steps_checklist_id'))

    op.drop_table('checklist_steps')
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulletins_expires_at'))

    op.drop_table('bulletins')
    op.drop_table('translations')
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_parent_id'))

    op.drop_table('regions')
    op.drop_table('organizations')
    op.drop_table('checklists')
