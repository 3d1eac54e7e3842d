"""SQLAlchemy models. Nested Graph structures (hours, policies, addresses) are JSON kept in
Graph's camelCase shape; scalars that people filter and sort on are real columns.
Durations are whole seconds so both databases compare them natively."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from openvisit.store.types import JsonColumn, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 255
NAME_LENGTH = 255


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for plain INSERTs that skip the ORM's unit of work."""
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - every model maps one table
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


class Timestamped:
    created_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated_date_time: Mapped[datetime] = mapped_column(UTCDateTime())


class Business(Timestamped, Base):
    __tablename__ = "businesses"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    business_type: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    web_site_url: Mapped[str | None] = mapped_column(String(2048))
    default_currency_iso: Mapped[str] = mapped_column(String(3), default="USD")
    language_tag: Mapped[str | None] = mapped_column(String(35))
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    public_url: Mapped[str | None] = mapped_column(String(2048))
    address: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    business_hours: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, default=list)
    scheduling_policy: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    booking_page_settings: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)


class BusinessChild(Timestamped):
    """Columns every resource inside a business shares."""

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    business_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class Service(BusinessChild, Base):
    __tablename__ = "services"

    description: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    additional_information: Mapped[str | None] = mapped_column(Text)
    default_duration_seconds: Mapped[int] = mapped_column(Integer)
    pre_buffer_seconds: Mapped[int] = mapped_column(Integer, default=0)
    post_buffer_seconds: Mapped[int] = mapped_column(Integer, default=0)
    default_price: Mapped[float] = mapped_column(Float, default=0.0)
    default_price_type: Mapped[str] = mapped_column(String(32), default="undefined")
    default_location: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    default_reminders: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, default=list)
    custom_questions: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, default=list)
    staff_member_ids: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    scheduling_policy: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    is_location_online: Mapped[bool] = mapped_column(Boolean, default=False)
    is_anonymous_join_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_customer_allowed_to_manage_booking: Mapped[bool] = mapped_column(Boolean, default=True)
    is_hidden_from_customers: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_notifications_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    language_tag: Mapped[str | None] = mapped_column(String(35))
    maximum_attendees_count: Mapped[int] = mapped_column(Integer, default=1)
    # OpenVisit extension (Graph has none): reschedule/cancel close this long before start.
    change_cutoff_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StaffMember(BusinessChild, Base):
    __tablename__ = "staff_members"

    email_address: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(32))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    use_business_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    working_hours: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, default=list)
    is_email_notification_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_is_affected_by_personal_calendar: Mapped[bool] = mapped_column(
        Boolean, default=False
    )
    membership_status: Mapped[str] = mapped_column(String(32), default="active")
    # beta bookingStaffMember.colorIndex: the staff member's colour in the Bookings palette.
    color_index: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Customer(BusinessChild, Base):
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_business_email", "business_id", "email_address"),)

    email_address: Mapped[str | None] = mapped_column(String(320))
    phones: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, default=list)
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, default=list)


class CustomQuestion(BusinessChild, Base):
    __tablename__ = "custom_questions"

    answer_input_type: Mapped[str] = mapped_column(String(32), default="text")
    answer_options: Mapped[list[str]] = mapped_column(JsonColumn, default=list)


class StaffUser(Base):
    """A person who signs in to the web pages or on whose behalf a token acts (`/me`)."""

    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_date_time: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64))
    token_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("staff_users.id", ondelete="CASCADE")
    )
    created_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffSignInSession(Base):
    """One staff sign-in. The cookie holds a random secret; only its SHA-256 digest is kept,
    so a copy of this table signs nobody in. `id` is the public handle the CLI shows."""

    __tablename__ = "staff_sessions"
    __table_args__ = (UniqueConstraint("token_digest"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    # Indexed: expired rows are pruned by this column at every sign-in.
    expires_date_time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    revoked_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInThrottle(Base):
    """Failed sign-ins counted per key (an account digest or a client address), shared by
    every worker process. Rows are pruned once `forget_after` passes, so the table stays
    as small as the set of keys that failed recently."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    forget_after: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuditRecord(Base):
    """Append-only log of state changes, written inside the changing transaction."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(128), index=True)
    actor: Mapped[str] = mapped_column(String(ID_LENGTH))
    subject: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Appointment(BusinessChild, Base):
    """A booked (or cancelled) appointment, in Graph's bookingAppointment shape.

    `display_name` holds the service name at booking time, so history survives a renamed
    or deleted service. Start and end are the appointment itself; `blocked_*` add the
    buffers and are what staff time is locked against.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_business_start", "business_id", "start_date_time"),
        Index("ix_appointments_business_blocked", "business_id", "blocked_start", "blocked_end"),
    )

    service_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("services.id", ondelete="SET NULL")
    )
    start_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    pre_buffer_seconds: Mapped[int] = mapped_column(Integer, default=0)
    post_buffer_seconds: Mapped[int] = mapped_column(Integer, default=0)
    blocked_start: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_end: Mapped[datetime] = mapped_column(UTCDateTime())
    staff_member_ids: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    customers: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, default=list)
    customer_time_zone: Mapped[str | None] = mapped_column(String(64))
    seats: Mapped[int] = mapped_column(Integer, default=1)
    maximum_attendees_count: Mapped[int] = mapped_column(Integer, default=1)
    details: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="booked")
    cancellation_message: Mapped[str | None] = mapped_column(Text)
    cancelled_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # iCalendar SEQUENCE of the invitations sent for it: grows with every move and cancel,
    # so calendar clients replace the event instead of adding a second one.
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Part of every manage link signed for it; raising it revokes all links given out.
    link_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The language the consumer booked in (a BCP 47 tag); None: the business's.
    customer_language: Mapped[str | None] = mapped_column(String(35))


class StaffHold(Base):
    """One staff member's hold on their time for one active appointment.

    On PostgreSQL an exclusion constraint (added by migration 0002) refuses two holds of
    the same staff member whose blocked ranges overlap, unless they share `group_key`:
    a one-on-one appointment's key is its own id, a group sitting's key is
    `service id @ start`, so attendees of one sitting may share it and nothing else may.
    """

    __tablename__ = "staff_holds"
    # Busy-time reads ask "this staff member, holds ending after the window starts": led by
    # the staff id and the end, the scan starts at the window and never visits the past.
    __table_args__ = (Index("ix_staff_holds_staff_end", "staff_id", "blocked_end"),)

    appointment_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    business_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    blocked_start: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_end: Mapped[datetime] = mapped_column(UTCDateTime())
    group_key: Mapped[str] = mapped_column(String(2 * ID_LENGTH))


class IdempotencyKey(Base):
    """The first result of a booking request, replayed when the client retries it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("business_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("businesses.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    appointment_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("appointments.id", ondelete="CASCADE")
    )
    created_date_time: Mapped[datetime] = mapped_column(UTCDateTime())


class Notification(Base):
    """One message to one recipient over one channel, due at a time: a row, not a timer.

    Written in the transaction of the appointment change that causes it, so a booking and
    its confirmation and reminders commit together or not at all. `available_at` is when
    the dispatcher may next claim it (the due time, later a retry's backoff); a claim sets
    `status` to sending with a lease, so a dispatcher killed mid-batch loses nothing: the
    lease runs out and another claims the row. `idempotency_key` names the one send this
    row stands for; it is unique, and it becomes the e-mail's Message-ID and the SMS
    provider's repeatability id.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        # The claim: "pending (or sending with a lapsed lease), available now", oldest first.
        Index("ix_notifications_claim", "status", "available_at"),
        Index("ix_notifications_appointment", "appointment_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    # None only for a text about an online meeting of no business (a staff user's own,
    # through sendVirtualAppointmentSms), which names `meeting_id` instead.
    business_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    # SET NULL: a deleted appointment's delivery history stays readable.
    appointment_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("appointments.id", ondelete="SET NULL")
    )
    # The online meeting a virtual appointment SMS is about (meetings/sms.py); CASCADE,
    # as such a row means nothing without its meeting.
    meeting_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("online_meetings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    audience: Mapped[str] = mapped_column(String(16))  # customer | staff
    recipient: Mapped[str] = mapped_column(String(320))  # an address or an E.164 number
    recipient_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    language: Mapped[str] = mapped_column(String(35))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Past this a message not yet sent is pointless (a reminder once the visit began):
    # it is dropped and logged instead of sent late.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(512))
    # What the message says beyond the appointment: a reminder's text, the SEQUENCE of
    # its calendar file, a cancellation message.
    data: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_id: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    last_error: Mapped[str | None] = mapped_column(Text)


class NotificationEvent(Base):
    """The delivery log: one row per thing that happened to a notification."""

    __tablename__ = "notification_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # queued | moved | claimed | sent | retrying | failed | cancelled | dropped
    event: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(64))


class OutboxMessage(Base):
    """A message the local outbox transport kept instead of sending (the demo's mail)."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    recipient: Mapped[str] = mapped_column(String(320))
    recipient_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    subject: Mapped[str | None] = mapped_column(String(998))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    calendar: Mapped[str | None] = mapped_column(Text)
    # [{filename, contentType, size}] of the other attachments; their bytes are not kept.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, default=list)
    idempotency_key: Mapped[str] = mapped_column(String(512), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PageRateLimit(Base):
    """Requests counted per key (a client address) in a fixed window, for the consumer
    pages' rate limit: rows, so every worker process counts the same. A row past its
    `forget_after` is deleted at the next count, which bounds the table by the addresses
    seen in the last window."""

    __tablename__ = "page_rate_limits"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    hits: Mapped[int] = mapped_column(Integer)
    forget_after: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CalendarFeed(Base):
    """A staff member's secret iCalendar feed URL: at most one each, replaced on rotation.

    The URL's token is a random secret; only its SHA-256 digest is kept (so a copy of this
    table subscribes to nothing) and a short prefix the API shows to tell feeds apart.
    Deleting the row revokes the URL.
    """

    __tablename__ = "calendar_feeds"
    __table_args__ = (UniqueConstraint("token_digest"), UniqueConstraint("staff_member_id"))

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    business_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    staff_member_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("staff_members.id", ondelete="CASCADE")
    )
    token_digest: Mapped[str] = mapped_column(String(64))
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    # When a calendar last fetched it, to the quarter hour: shows whether it is in use.
    last_read_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Document(Base):
    """A document before the visit: a service's prerequisite (a file or a link its staff
    add) or a file uploaded to one appointment (by its consumer, later by staff).

    Exactly one of `service_id` and `appointment_id` is set. A file's bytes live under the
    data folder at `storage_name` (relative to the uploads folder, a random name, never
    the client's); its type was read from its content, not from what the client said.
    Rows cascade with their owner, and the services that delete an owner remove the
    files once the deletion commits (bookings/document_store.py).
    """

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("(service_id IS NULL) <> (appointment_id IS NULL)", name="one_owner"),
        CheckConstraint("kind IN ('file', 'link')", name="kind"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    business_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    service_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    appointment_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # file | link
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    web_url: Mapped[str | None] = mapped_column(String(2048))  # a link's address
    content_type: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_name: Mapped[str | None] = mapped_column(String(512))
    uploaded_by: Mapped[str] = mapped_column(String(16))  # staff | customer
    created_by: Mapped[str] = mapped_column(String(ID_LENGTH))  # the audit actor
    created_date_time: Mapped[datetime] = mapped_column(UTCDateTime())


class OnlineMeeting(Base):
    """An online meeting in Graph's onlineMeeting shape: the room a virtual visit happens in.

    A bookingAppointment held online owns one (`appointment_id`); one made through
    `/me/onlineMeetings` belongs to the signed-in staff user who organised it, and may
    carry a `virtual_appointment` (the beta resource a business with its own scheduling
    system attaches to its appointment id). Graph properties without a column of their
    own (lobbyBypassSettings, allowedPresenters, participants...) are kept whole in
    `properties`. Raising `link_version` revokes every join link handed out for it.
    The provider's state ("running late", a message) is what the waiting room shows.
    """

    __tablename__ = "online_meetings"
    __table_args__ = (
        UniqueConstraint("organizer_user_id", "external_id"),
        UniqueConstraint("appointment_id"),
        Index("ix_online_meetings_organizer_start", "organizer_user_id", "start_date_time"),
        Index("ix_online_meetings_business_start", "business_id", "start_date_time"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    organizer_user_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("staff_users.id", ondelete="CASCADE")
    )
    business_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("businesses.id", ondelete="CASCADE")
    )
    appointment_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("appointments.id", ondelete="CASCADE")
    )
    external_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    subject: Mapped[str | None] = mapped_column(Text)
    start_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    created_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    properties: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    virtual_appointment: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    link_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(
        String(16), default="scheduled"
    )  # scheduled|ended|cancelled
    provider_state: Mapped[str] = mapped_column(String(16), default="ready")  # ready|late|away
    provider_late_minutes: Mapped[int | None] = mapped_column(Integer)
    provider_message: Mapped[str | None] = mapped_column(Text)


class MeetingParticipant(Base):
    """Somebody who takes part in one meeting: its provider(s), its consumer, guests.

    `participant_key` names who it is inside the meeting, the same across reloads and
    devices: `consumer`, `guest:<id>` (a guest link), `staff:<user id>`. The row exists
    from the first device check or join; `state` is where they are (invited, lobby,
    admitted, denied, left), and `device_check` their latest device-check result.
    Presence (connected now, in the lobby or the call) is the open MeetingAttendance row.
    """

    __tablename__ = "meeting_participants"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_key"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("online_meetings.id", ondelete="CASCADE"), index=True
    )
    participant_key: Mapped[str] = mapped_column(String(ID_LENGTH))
    role: Mapped[str] = mapped_column(String(16))  # provider | consumer | guest
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    email_address: Mapped[str | None] = mapped_column(String(320))
    staff_user_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(16), default="invited")
    lobby_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    denied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    device_check: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn)
    device_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What they send in the call ({"audio", "video", "screen"} booleans); NULL: not told yet.
    media: Mapped[dict[str, bool] | None] = mapped_column(JsonColumn)


class MeetingSession(Base):
    """One sitting of a meeting's call, from its first join to its end: one Graph
    attendanceReport. A meeting ended and started again has a second one."""

    __tablename__ = "meeting_sessions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("online_meetings.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MeetingAttendance(Base):
    """One stretch of one participant's presence: in the lobby or in the call.

    An open row (`ended_at` NULL) is a connection that is there now; `connection_id`
    names it, so a reconnect closes exactly the stretch its dropped predecessor left
    open. Call stretches belong to a session and are Graph's attendanceIntervals.
    `server_instance_id` is the server process holding the connection: when that
    process dies without closing it, its lease (ServerInstance) runs out and the row is
    closed at the lease's last heartbeat (meetings/server_leases.py).
    """

    __tablename__ = "meeting_attendance"
    __table_args__ = (
        CheckConstraint("kind IN ('lobby', 'call')", name="kind"),
        Index("ix_meeting_attendance_meeting_started", "meeting_id", "started_at"),
        # Only open rows: the sweep looks for a dead server's open rows, and a closed row
        # leaves this index, so it stays as small as the connections of the moment.
        Index(
            "ix_meeting_attendance_open_server_instance_id",
            "server_instance_id",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("online_meetings.id", ondelete="CASCADE")
    )
    participant_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("meeting_participants.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    connection_id: Mapped[str] = mapped_column(String(64))
    # No foreign key: a server's lease row goes once its rows are closed, and the closed
    # rows keep naming it. NULL only on rows closed before migration 0015.
    server_instance_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ServerInstance(Base):
    """A running server process's lease on the presence rows it writes.

    Each process registers one when its real-time hub starts, renews `heartbeat_at`
    every few seconds and deletes it when it stops cleanly. A row whose heartbeat is
    older than the expiry belongs to a process that is gone (killed, power lost): the
    others close its open MeetingAttendance rows at that heartbeat and delete the row.
    """

    __tablename__ = "server_instances"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingMessage(Base):
    """A chat message kept on the meeting (so on the appointment): in the call, or from
    the lobby to staff and back. `client_message_id` makes a resend after a reconnect
    store nothing twice."""

    __tablename__ = "meeting_messages"
    __table_args__ = (
        UniqueConstraint("participant_id", "client_message_id"),
        CheckConstraint("audience IN ('call', 'lobby')", name="audience"),
        Index("ix_meeting_messages_meeting_id_id", "meeting_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("online_meetings.id", ondelete="CASCADE")
    )
    participant_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("meeting_participants.id", ondelete="SET NULL")
    )
    # A lobby message between staff and one waiting participant names that participant.
    lobby_participant_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("meeting_participants.id", ondelete="CASCADE")
    )
    sender_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    sender_role: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    client_message_id: Mapped[str | None] = mapped_column(String(64))
    created_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
