"""Index staff holds by staff and end

A busy-time read asks for holds with `blocked_end > window start AND blocked_start <
window end`. Led by `blocked_start`, the index range reached back over every past hold
of the staff member, so the read grew with years of history; led by `blocked_end`, it
starts at the window and reaches forward only as far as bookings exist (bounded by the
maximum advance).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_holds_staff_start")
        batch_op.create_index("ix_staff_holds_staff_end", ["staff_id", "blocked_end"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_holds_staff_end")
        batch_op.create_index(
            "ix_staff_holds_staff_start", ["staff_id", "blocked_start"], unique=False
        )
