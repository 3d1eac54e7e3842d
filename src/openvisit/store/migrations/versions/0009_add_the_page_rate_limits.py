"""Add the consumer pages' rate limit counters

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openvisit.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_rate_limits",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("window_start", openvisit.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("forget_after", openvisit.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_page_rate_limits")),
    )
    with op.batch_alter_table("page_rate_limits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_page_rate_limits_forget_after"), ["forget_after"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("page_rate_limits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_rate_limits_forget_after"))

    op.drop_table("page_rate_limits")
