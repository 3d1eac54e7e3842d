"""Add appointments, staff holds (with the no-overlap constraint) and idempotency keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import openvisit.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "appointments",
        sa.Column("service_id", sa.String(length=255), nullable=True),
        sa.Column(
            "start_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "end_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("pre_buffer_seconds", sa.Integer(), nullable=False),
        sa.Column("post_buffer_seconds", sa.Integer(), nullable=False),
        sa.Column(
            "blocked_start", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("blocked_end", openvisit.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "staff_member_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "customers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("customer_time_zone", sa.String(length=64), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("maximum_attendees_count", sa.Integer(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancellation_message", sa.Text(), nullable=True),
        sa.Column(
            "cancelled_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("business_id", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column(
            "created_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_updated_date_time",
            openvisit.store.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_appointments_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_appointments_service_id_services"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointments_business_blocked",
            ["business_id", "blocked_start", "blocked_end"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_appointments_business_id"), ["business_id"], unique=False
        )
        batch_op.create_index(
            "ix_appointments_business_start", ["business_id", "start_date_time"], unique=False
        )

    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("business_id", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("appointment_id", sa.String(length=255), nullable=False),
        sa.Column(
            "created_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_idempotency_keys_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_idempotency_keys_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("business_id", "key", name=op.f("uq_idempotency_keys_business_id")),
    )
    op.create_table(
        "staff_holds",
        sa.Column("appointment_id", sa.String(length=255), nullable=False),
        sa.Column("staff_id", sa.String(length=255), nullable=False),
        sa.Column("business_id", sa.String(length=255), nullable=False),
        sa.Column(
            "blocked_start", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("blocked_end", openvisit.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("group_key", sa.String(length=510), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_staff_holds_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_staff_holds_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appointment_id", "staff_id", name=op.f("pk_staff_holds")),
    )
    with op.batch_alter_table("staff_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_holds_business_id"), ["business_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        # No double booking, by the database: two holds of one staff member may not
        # overlap unless they belong to the same group sitting (same group_key).
        # btree_gist lets a GiST index compare text with = and <>.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE staff_holds ADD CONSTRAINT ex_staff_holds_no_overlap "
            "EXCLUDE USING gist (staff_id WITH =, "
            "tstzrange(blocked_start, blocked_end, '[)') WITH &&, group_key WITH <>)"
        )


def downgrade() -> None:

    with op.batch_alter_table("staff_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_holds_business_id"))

    op.drop_table("staff_holds")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_business_start")
        batch_op.drop_index(batch_op.f("ix_appointments_business_id"))
        batch_op.drop_index("ix_appointments_business_blocked")

    op.drop_table("appointments")
