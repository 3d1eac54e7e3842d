"""Let a notification be about an online meeting (virtual appointment SMS)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_id", sa.String(length=255), nullable=True))
        batch_op.alter_column("business_id", existing_type=sa.String(length=255), nullable=True)
        batch_op.create_index(batch_op.f("ix_notifications_meeting_id"), ["meeting_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_meeting_id_online_meetings"),
            "online_meetings",
            ["meeting_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE business_id IS NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_notifications_meeting_id_online_meetings"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_notifications_meeting_id"))
        batch_op.alter_column("business_id", existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column("meeting_id")
