"""Add server leases, and name the server process that holds each presence row

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

A stretch still open now was opened by a server of an earlier version, which is gone
or about to go (this migration runs as a new one starts), and which never said when it
was last alive. Those stretches are given one lease, heartbeating now: nobody renews
it, so once it expires the sweep closes them at the time of this upgrade, the latest
moment they can be said to have been there, instead of leaving them open for ever.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openvisit.store.types
from openvisit.clock import SystemClock

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BEFORE_LEASES = "before-0015"


def upgrade() -> None:
    op.create_table(
        "server_instances",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("started_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_instances")),
    )
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("server_instance_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_meeting_attendance_open_server_instance_id",
            ["server_instance_id"],
            unique=False,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
    _lease_open_stretches()


def _lease_open_stretches() -> None:
    connection = op.get_bind()
    attendance = sa.table(
        "meeting_attendance",
        sa.column("ended_at", openvisit.store.types.UTCDateTime()),
        sa.column("server_instance_id", sa.String()),
    )
    still_open = attendance.c.ended_at.is_(None)
    if connection.execute(sa.select(sa.func.count()).where(still_open)).scalar_one() == 0:
        return
    leases = sa.table(
        "server_instances",
        sa.column("id", sa.String()),
        sa.column("started_at", openvisit.store.types.UTCDateTime()),
        sa.column("heartbeat_at", openvisit.store.types.UTCDateTime()),
    )
    now = SystemClock().now()
    connection.execute(sa.insert(leases).values(id=BEFORE_LEASES, started_at=now, heartbeat_at=now))
    connection.execute(
        sa.update(attendance).where(still_open).values(server_instance_id=BEFORE_LEASES)
    )


def downgrade() -> None:
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_meeting_attendance_open_server_instance_id",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_column("server_instance_id")
    op.drop_table("server_instances")
