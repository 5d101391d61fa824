"""word sightings: keyed digests of rumour words and of who sent them, until ten numbers did

A new table only: nothing existing changes. Going back drops it (and with it the current
week's sightings, which only delays words that had not yet reached ten numbers).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "word_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("region_slug", sa.String(length=64), nullable=False),
        sa.Column("word_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sender_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("checks", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_word_sightings")),
        sa.UniqueConstraint(
            "week",
            "region_slug",
            "word_digest",
            "sender_digest",
            name=op.f("uq_word_sightings_week_region_slug_word_digest_sender_digest"),
        ),
    )
    with op.batch_alter_table("word_sightings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_word_sightings_week"), ["week"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("word_sightings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_word_sightings_week"))
    op.drop_table("word_sightings")
