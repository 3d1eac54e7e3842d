"""Booking an appointment: decide who and when, then write it in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.bookings import outcomes
from openvisit.bookings.appointments import notices
from openvisit.bookings.appointments.checks import (
    check_answers,
    overridden_rules,
    override_row,
    seats_for,
    shape,
    stored_customers,
)
from openvisit.bookings.appointments.holds import holds_of
from openvisit.bookings.appointments.idempotency import replay, replay_committed
from openvisit.bookings.appointments.lookup import ACTIVE, business_and_service, require_service
from openvisit.bookings.appointments.request import AppointmentRequest
from openvisit.bookings.appointments.staffing import claim_staff, still_free
from openvisit.bookings.authority import Authority, own_staff
from openvisit.bookings.views import AppointmentView, snapshot
from openvisit.clock import Clock
from openvisit.meetings import appointment_meetings
from openvisit.scheduling.slots import ServiceSpec
from openvisit.store.db import Database
from openvisit.store.inserts import insert_rows
from openvisit.store.locking import is_overlap
from openvisit.store.models import (
    Appointment,
    AuditRecord,
    Business,
    IdempotencyKey,
    Notification,
    NotificationEvent,
    OnlineMeeting,
    Service,
    StaffHold,
    StaffMember,
)


@outcomes.count_refusals
def book(
    db: Database,
    clock: Clock,
    business_id: str,
    request: AppointmentRequest,
    *,
    authority: Authority,
    idempotency_key: str | None = None,
    fingerprint: str = "",
) -> AppointmentView:
    """Book an appointment, or replay the first result of a retried idempotent request."""
    try:
        booked = _book(db, clock, business_id, request, authority, idempotency_key, fingerprint)
        # Every column of the row is set (written, or loaded by a replay): nothing to load.
        return snapshot(AppointmentView, booked)
    except IntegrityError as error:
        # Either the exclusion constraint caught an overlap no lock prevented, or a
        # concurrent request with the same idempotency key committed first.
        if idempotency_key is not None:
            replayed = replay_committed(db, business_id, idempotency_key, fingerprint)
            if replayed is not None:
                return snapshot(AppointmentView, replayed)
        if not is_overlap(error):
            raise
        raise outcomes.SlotRefused(
            ["conflict"], detail="the time is already booked for that staff member"
        ) from error


@dataclass(frozen=True)
class _Draft:
    """A booking decided but not yet written: who, when, and what the row will hold."""

    business_id: str
    business: Business
    service: Service
    spec: ServiceSpec
    start: datetime
    end: datetime
    staff: tuple[StaffMember, ...]
    customers: list[dict[str, Any]]
    customer_time_zone: str | None
    details: dict[str, Any]
    customer_language: str | None = None
    overridden: tuple[str, ...] = ()  # the rules an override set aside, for the audit


def _book(
    db: Database,
    clock: Clock,
    business_id: str,
    request: AppointmentRequest,
    authority: Authority,
    idempotency_key: str | None,
    fingerprint: str,
) -> Appointment:
    now = clock.now()

    def prepare(session: Session) -> _Draft | Appointment:
        return _prepare(session, business_id, request, authority, now, idempotency_key, fingerprint)

    def still_free(session: Session, prepared: _Draft | Appointment) -> bool:
        # Only a draft is ever re-checked: a replay is settled before any write.
        return isinstance(prepared, Appointment) or _still_free(session, prepared, now)

    def insert(session: Session, prepared: _Draft | Appointment) -> tuple[Appointment, bool]:
        if isinstance(prepared, Appointment):
            return prepared, False
        return _insert(session, prepared, authority, now, idempotency_key, fingerprint), True

    # Where the booking is decided (before or under the write lock) is the backend's
    # choice; on SQLite only the chosen staff's time is re-checked under the lock.
    appointment, made = db.decide_and_write(
        prepare, insert, still_valid=still_free, settled=_replayed
    )
    if made:
        outcomes.booking_made()  # after the commit, and never for a replay
    return appointment


def _replayed(prepared: _Draft | Appointment) -> tuple[Appointment, bool] | None:
    return (prepared, False) if isinstance(prepared, Appointment) else None


def _prepare(
    session: Session,
    business_id: str,
    request: AppointmentRequest,
    authority: Authority,
    now: datetime,
    idempotency_key: str | None,
    fingerprint: str,
) -> _Draft | Appointment:
    """Check the request and choose its staff; the earlier appointment if it is a replay."""
    business, found = business_and_service(session, business_id, request.service_id)
    if idempotency_key is not None:
        earlier = replay(session, business.id, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier
    service = require_service(found, request.service_id)
    spec, start, end = shape(service, request)
    check_answers(service, request.customers)
    customers = stored_customers(session, business.id, request.customers)
    chosen = claim_staff(
        session,
        business,
        service,
        spec,
        own_staff(authority, request.staff_ids),
        start,
        end,
        authority=authority,
        now=now,
        seats=seats_for(spec, customers),
    )
    overridden = overridden_rules(business, service, spec, chosen, start, end, authority, now)
    # Graph's appointment takes these from its service unless the request sends its own.
    inherited = {
        "isCustomerAllowedToManageBooking": service.is_customer_allowed_to_manage_booking,
        "isLocationOnline": service.is_location_online,
    }
    return _Draft(
        business_id=business.id,
        business=business,
        service=service,
        spec=spec,
        start=start,
        end=end,
        staff=tuple(chosen),
        customers=customers,
        customer_time_zone=request.customer_time_zone,
        details={**inherited, **request.details},
        customer_language=request.customer_language,
        overridden=overridden,
    )


def _still_free(session: Session, draft: _Draft, now: datetime) -> bool:
    staff_ids = [member.id for member in draft.staff]
    seats = seats_for(draft.spec, draft.customers)
    return still_free(session, draft.spec, draft.start, draft.end, staff_ids, seats=seats, now=now)


def _insert(
    session: Session,
    draft: _Draft,
    authority: Authority,
    now: datetime,
    idempotency_key: str | None,
    fingerprint: str,
) -> Appointment:
    spec, start, end = draft.spec, draft.start, draft.end
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "business_id": draft.business_id,
        "display_name": draft.service.display_name,
        "service_id": draft.service.id,
        "start_date_time": start,
        "end_date_time": end,
        "pre_buffer_seconds": int(spec.pre_buffer.total_seconds()),
        "post_buffer_seconds": int(spec.post_buffer.total_seconds()),
        "blocked_start": start - spec.pre_buffer,
        "blocked_end": end + spec.post_buffer,
        "staff_member_ids": [member.id for member in draft.staff],
        "customers": draft.customers,
        "customer_time_zone": draft.customer_time_zone,
        "seats": seats_for(spec, draft.customers),
        "maximum_attendees_count": spec.capacity,
        "details": draft.details,
        "status": ACTIVE,
        "cancellation_message": None,
        "cancelled_date_time": None,
        "ical_sequence": 0,
        "link_version": 0,
        "customer_language": draft.customer_language,
        "created_date_time": now,
        "last_updated_date_time": now,
    }
    key_rows = (
        [
            {
                "business_id": draft.business_id,
                "key": idempotency_key,
                "request_hash": fingerprint,
                "appointment_id": row["id"],
                "created_date_time": now,
            }
        ]
        if idempotency_key is not None
        else []
    )
    audit_row = audit.row(
        Action.APPOINTMENT_BOOKED,
        actor=authority.actor,
        subject=row["id"],
        at=now,
        data={"businessId": draft.business_id, "staff": row["staff_member_ids"]},
    )
    audit_rows = [audit_row]
    if draft.overridden:
        audit_rows.append(
            override_row(authority, row["id"], draft.business_id, draft.overridden, now)
        )
    # An online appointment's meeting (its join links) commits with the booking too.
    meeting_rows, meeting_audit = appointment_meetings.booked_rows(
        session,
        row,
        [member.email_address for member in draft.staff],
        actor=authority.actor,
        now=now,
    )
    audit_rows += meeting_audit
    # The confirmations, the providers' notices and the reminders commit with the booking.
    situation = notices.situation_for(row, draft.business, draft.service, draft.staff)
    notification_rows, queued_rows = notices.booked_rows(situation, draft.business_id, now)
    # Plain INSERTs rather than the ORM's unit of work: on SQLite this runs while the
    # whole database is locked for writers, so every statement's cost counts.
    insert_rows(
        session,
        [
            (Appointment, [row]),
            (OnlineMeeting, meeting_rows),
            (StaffHold, holds_of(row, spec)),
            (IdempotencyKey, key_rows),
            (AuditRecord, audit_rows),
            (Notification, notification_rows),
            (NotificationEvent, queued_rows),
        ],
    )
    return Appointment(**row)
