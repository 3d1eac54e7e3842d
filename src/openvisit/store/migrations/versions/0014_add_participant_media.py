"""Add what a participant sends (audio, video, screen) to meeting participants

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
# The online meetings branch may add 0013; the chain is joined when the branches merge.
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "media",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.drop_column("media")
