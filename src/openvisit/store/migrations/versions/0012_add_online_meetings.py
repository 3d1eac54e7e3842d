"""Add online meetings, participants, attendance and chat

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import openvisit.store.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "online_meetings",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("organizer_user_id", sa.String(length=255), nullable=True),
        sa.Column("business_id", sa.String(length=255), nullable=True),
        sa.Column("appointment_id", sa.String(length=255), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column(
            "start_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "end_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "created_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "virtual_appointment",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("link_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_state", sa.String(length=16), nullable=False),
        sa.Column("provider_late_minutes", sa.Integer(), nullable=True),
        sa.Column("provider_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_online_meetings_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_online_meetings_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organizer_user_id"],
            ["staff_users.id"],
            name=op.f("fk_online_meetings_organizer_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_meetings")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_online_meetings_appointment_id")),
        sa.UniqueConstraint(
            "organizer_user_id", "external_id", name=op.f("uq_online_meetings_organizer_user_id")
        ),
    )
    with op.batch_alter_table("online_meetings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_online_meetings_business_start", ["business_id", "start_date_time"], unique=False
        )
        batch_op.create_index(
            "ix_online_meetings_organizer_start",
            ["organizer_user_id", "start_date_time"],
            unique=False,
        )

    op.create_table(
        "meeting_participants",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("meeting_id", sa.String(length=255), nullable=False),
        sa.Column("participant_key", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("email_address", sa.String(length=320), nullable=True),
        sa.Column("staff_user_id", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "lobby_entered_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("admitted_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("denied_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "device_check",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "device_checked_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["online_meetings.id"],
            name=op.f("fk_meeting_participants_meeting_id_online_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_meeting_participants_staff_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_participants")),
        sa.UniqueConstraint(
            "meeting_id", "participant_key", name=op.f("uq_meeting_participants_meeting_id")
        ),
    )
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_participants_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "meeting_sessions",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("meeting_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["online_meetings.id"],
            name=op.f("fk_meeting_sessions_meeting_id_online_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_sessions")),
    )
    with op.batch_alter_table("meeting_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_sessions_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "meeting_attendance",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(length=255), nullable=False),
        sa.Column("participant_id", sa.String(length=255), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", openvisit.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('lobby', 'call')", name=op.f("ck_meeting_attendance_kind")),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["online_meetings.id"],
            name=op.f("fk_meeting_attendance_meeting_id_online_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["meeting_participants.id"],
            name=op.f("fk_meeting_attendance_participant_id_meeting_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["meeting_sessions.id"],
            name=op.f("fk_meeting_attendance_session_id_meeting_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_attendance")),
    )
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_attendance_meeting_started", ["meeting_id", "started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_attendance_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_attendance_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "meeting_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(length=255), nullable=False),
        sa.Column("participant_id", sa.String(length=255), nullable=True),
        sa.Column("lobby_participant_id", sa.String(length=255), nullable=True),
        sa.Column("sender_name", sa.String(length=255), nullable=False),
        sa.Column("sender_role", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("client_message_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.CheckConstraint(
            "audience IN ('call', 'lobby')", name=op.f("ck_meeting_messages_audience")
        ),
        sa.ForeignKeyConstraint(
            ["lobby_participant_id"],
            ["meeting_participants.id"],
            name=op.f("fk_meeting_messages_lobby_participant_id_meeting_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["online_meetings.id"],
            name=op.f("fk_meeting_messages_meeting_id_online_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["meeting_participants.id"],
            name=op.f("fk_meeting_messages_participant_id_meeting_participants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_messages")),
        sa.UniqueConstraint(
            "participant_id", "client_message_id", name=op.f("uq_meeting_messages_participant_id")
        ),
    )
    with op.batch_alter_table("meeting_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_messages_meeting_id_id", ["meeting_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_messages_meeting_id_id")

    op.drop_table("meeting_messages")
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_attendance_session_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_attendance_participant_id"))
        batch_op.drop_index("ix_meeting_attendance_meeting_started")

    op.drop_table("meeting_attendance")
    with op.batch_alter_table("meeting_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_sessions_meeting_id"))

    op.drop_table("meeting_sessions")
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_participants_meeting_id"))

    op.drop_table("meeting_participants")
    with op.batch_alter_table("online_meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_online_meetings_organizer_start")
        batch_op.drop_index("ix_online_meetings_business_start")

    op.drop_table("online_meetings")
