"""Create foundation tables

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import openvisit.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=128), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("at", openvisit.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_subject"), ["subject"], unique=False)

    op.create_table(
        "businesses",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("business_type", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("web_site_url", sa.String(length=2048), nullable=True),
        sa.Column("default_currency_iso", sa.String(length=3), nullable=False),
        sa.Column("language_tag", sa.String(length=35), nullable=True),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        sa.Column("public_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "business_hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "scheduling_policy",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "booking_page_settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "created_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_updated_date_time",
            openvisit.store.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_businesses")),
    )
    op.create_table(
        "staff_users",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column(
            "created_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_used_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "revoked_date_time", openvisit.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_api_tokens_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "custom_questions",
        sa.Column("answer_input_type", sa.String(length=32), nullable=False),
        sa.Column(
            "answer_options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
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
            name=op.f("fk_custom_questions_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_questions")),
    )
    with op.batch_alter_table("custom_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_custom_questions_business_id"), ["business_id"], unique=False
        )

    op.create_table(
        "customers",
        sa.Column("email_address", sa.String(length=320), nullable=True),
        sa.Column(
            "phones",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "addresses",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
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
            name=op.f("fk_customers_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customers_business_email", ["business_id", "email_address"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customers_business_id"), ["business_id"], unique=False)

    op.create_table(
        "services",
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("additional_information", sa.Text(), nullable=True),
        sa.Column("default_duration_seconds", sa.Integer(), nullable=False),
        sa.Column("pre_buffer_seconds", sa.Integer(), nullable=False),
        sa.Column("post_buffer_seconds", sa.Integer(), nullable=False),
        sa.Column("default_price", sa.Float(), nullable=False),
        sa.Column("default_price_type", sa.String(length=32), nullable=False),
        sa.Column(
            "default_location",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "default_reminders",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "custom_questions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "staff_member_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "scheduling_policy",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("is_location_online", sa.Boolean(), nullable=False),
        sa.Column("is_anonymous_join_enabled", sa.Boolean(), nullable=False),
        sa.Column("is_customer_allowed_to_manage_booking", sa.Boolean(), nullable=False),
        sa.Column("is_hidden_from_customers", sa.Boolean(), nullable=False),
        sa.Column("sms_notifications_enabled", sa.Boolean(), nullable=False),
        sa.Column("language_tag", sa.String(length=35), nullable=True),
        sa.Column("maximum_attendees_count", sa.Integer(), nullable=False),
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
            name=op.f("fk_services_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
    )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_services_business_id"), ["business_id"], unique=False)

    op.create_table(
        "staff_members",
        sa.Column("email_address", sa.String(length=320), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("use_business_hours", sa.Boolean(), nullable=False),
        sa.Column(
            "working_hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_email_notification_enabled", sa.Boolean(), nullable=False),
        sa.Column("availability_is_affected_by_personal_calendar", sa.Boolean(), nullable=False),
        sa.Column("membership_status", sa.String(length=32), nullable=False),
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
            name=op.f("fk_staff_members_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_members")),
    )
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_members_business_id"), ["business_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_members_business_id"))

    op.drop_table("staff_members")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_business_id"))

    op.drop_table("services")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_business_id"))
        batch_op.drop_index("ix_customers_business_email")

    op.drop_table("customers")
    with op.batch_alter_table("custom_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_questions_business_id"))

    op.drop_table("custom_questions")
    op.drop_table("api_tokens")
    op.drop_table("staff_users")
    op.drop_table("businesses")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_subject"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
