"""Appointments: book, reschedule, cancel, delete; one transaction each.

Every write path (the REST API now, the booking pages later) comes through here, so the
booking rules hold everywhere: the staff member is free (buffers included), the time is
inside their hours and business hours, lead time and maximum advance are respected, and
required custom questions are answered. An administrator or scheduler may override hours
and policy when they ask to (audited), never overlap. Overlap is checked under
`lock_staff_time` and, on PostgreSQL, refused again by the exclusion constraint on
staff_holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.bookings import outcomes
from openvisit.bookings.authority import OVERRIDE_ACTION, Authority, check_owned, own_staff
from openvisit.bookings.availability import (
    bookable_time,
    booking_policy,
    business_zone,
    service_spec,
    staff_bookings,
)
from openvisit.bookings.records import business_not_found, require_business
from openvisit.clock import Clock
from openvisit.errors import Conflict, InvalidInput, NotFound
from openvisit.scheduling.booking import REFUSAL_CODES, group_key, refusal
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.slots import ServiceSpec
from openvisit.store.db import Database
from openvisit.store.inserts import insert_rows
from openvisit.store.locking import lock_staff_time
from openvisit.store.models import (
    Appointment,
    AuditRecord,
    Business,
    Customer,
    IdempotencyKey,
    Service,
    StaffHold,
    StaffMember,
    table_of,
)

ACTIVE = "booked"
CANCELLED = "cancelled"
MAX_SPAN = timedelta(days=1)

# The booking path's reads, built once with bound parameters: building and cache-keying
# a statement on every request cost about as much as running it.
_BUSINESS_AND_SERVICE = (
    select(Business, Service)
    .outerjoin(
        Service,
        and_(Service.business_id == Business.id, Service.id == bindparam("service_id")),
    )
    .where(Business.id == bindparam("business_id"))
)
_ALL_STAFF = select(StaffMember).where(StaffMember.business_id == bindparam("business_id"))
_NAMED_STAFF = _ALL_STAFF.where(StaffMember.id.in_(bindparam("staff_ids", expanding=True)))


@dataclass(frozen=True)
class AppointmentRequest:
    """What a caller asks to book. `customers` and `details` keep Graph's camelCase shape."""

    service_id: str
    start: datetime
    end: datetime | None = None
    staff_ids: tuple[str, ...] = ()
    customers: tuple[Mapping[str, Any], ...] = ()
    customer_time_zone: str | None = None
    pre_buffer: timedelta | None = None
    post_buffer: timedelta | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


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
) -> Appointment:
    """Book an appointment, or replay the first result of a retried idempotent request."""
    try:
        return _book(db, clock, business_id, request, authority, idempotency_key, fingerprint)
    except IntegrityError as error:
        # Either the exclusion constraint caught an overlap no lock prevented, or a
        # concurrent request with the same idempotency key committed first.
        if idempotency_key is not None:
            replayed = _replay_committed(db, business_id, idempotency_key, fingerprint)
            if replayed is not None:
                return replayed
        raise outcomes.SlotRefused(
            "The time is already booked for that staff member.", reasons=["conflict"]
        ) from error


@dataclass(frozen=True)
class _Draft:
    """A booking decided but not yet written: who, when, and what the row will hold."""

    business_id: str
    service: Service
    spec: ServiceSpec
    start: datetime
    end: datetime
    staff: tuple[StaffMember, ...]
    customers: list[dict[str, Any]]
    customer_time_zone: str | None
    details: dict[str, Any]
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

    draft: _Draft | None = None
    if db.is_sqlite:
        # SQLite has one write lock for the whole file, so every booking waits on every
        # other one: decide outside it (a read sees one consistent snapshot), then hold
        # it only to re-check the chosen staff's time and insert. PostgreSQL locks per
        # staff member, so it decides under that lock in one transaction instead.
        with db.read() as session:
            prepared = prepare(session)
        if isinstance(prepared, Appointment):
            return prepared
        draft = prepared
    with db.write() as session:
        if draft is None or not _still_free(session, draft, now):
            prepared = prepare(session)
            if isinstance(prepared, Appointment):
                return prepared
            draft = prepared
        appointment = _insert(session, draft, authority, now, idempotency_key, fingerprint)
    outcomes.booking_made()  # after the commit, and never for a replay
    return appointment


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
    business, found = _business_and_service(session, business_id, request.service_id)
    if idempotency_key is not None:
        earlier = _replay(session, business.id, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier
    service = _require_service(found, request.service_id)
    spec, start, end = _shape(service, request)
    check_answers(service, request.customers)
    customers = _customers(session, business.id, request.customers)
    chosen = _claim_staff(
        session,
        business,
        service,
        spec,
        own_staff(authority, request.staff_ids),
        start,
        end,
        authority=authority,
        now=now,
        seats=_seats(spec, customers),
    )
    overridden = _overridden(business, service, spec, chosen, start, end, authority, now)
    inherited = {"isCustomerAllowedToManageBooking": service.is_customer_allowed_to_manage_booking}
    return _Draft(
        business_id=business.id,
        service=service,
        spec=spec,
        start=start,
        end=end,
        staff=tuple(chosen),
        customers=customers,
        customer_time_zone=request.customer_time_zone,
        details={**inherited, **request.details},
        overridden=overridden,
    )


def _still_free(session: Session, draft: _Draft, now: datetime) -> bool:
    """Whether the drafted staff are still free, read under the write lock.

    Only the overlap rule can have changed since the draft: hours, policy and answers
    do not depend on other bookings. Bookings that can collide are exactly those whose
    buffered range meets this one's.
    """
    spec, start, end = draft.spec, draft.start, draft.end
    staff_ids = [member.id for member in draft.staff]
    busy = staff_bookings(
        session, staff_ids, Interval(start - spec.pre_buffer, end + spec.post_buffer)
    )
    seats = _seats(spec, draft.customers)
    return all(
        refusal(spec, start, end, busy[staff_id], working=None, policy=None, now=now, seats=seats)
        is None
        for staff_id in staff_ids
    )


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
        "seats": _seats(spec, draft.customers),
        "maximum_attendees_count": spec.capacity,
        "details": draft.details,
        "status": ACTIVE,
        "cancellation_message": None,
        "cancelled_date_time": None,
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
        "openvisit.appointment.booked",
        actor=authority.actor,
        subject=row["id"],
        at=now,
        data={"businessId": draft.business_id, "staff": row["staff_member_ids"]},
    )
    audit_rows = [audit_row]
    if draft.overridden:
        audit_rows.append(
            _override_row(authority, row["id"], draft.business_id, draft.overridden, now)
        )
    # Plain INSERTs rather than the ORM's unit of work: on SQLite this runs while the
    # whole database is locked for writers, so every statement's cost counts.
    insert_rows(
        session,
        [
            (Appointment, [row]),
            (StaffHold, _holds(row, spec)),
            (IdempotencyKey, key_rows),
            (AuditRecord, audit_rows),
        ],
    )
    return Appointment(**row)


def reschedule(
    db: Database,
    clock: Clock,
    business_id: str,
    appointment_id: str,
    changes: AppointmentRequest,
    *,
    authority: Authority,
    read_at: datetime | None = None,
) -> Appointment:
    """Move or re-staff an appointment under the same rules as booking it.

    A change that keeps the service, times, buffers and staff (notes, answers, customers)
    does not re-check hours or lead time: editing notes of a started appointment is fine.
    `read_at` is the lastUpdatedDateTime the caller built `changes` from; if the
    appointment changed since, the request is refused rather than undoing that change.
    """
    now = clock.now()
    try:
        with db.write() as session:
            appointment = _active(session, business_id, appointment_id)
            check_owned(authority.own_staff_id, appointment)
            if read_at is not None and appointment.last_updated_date_time != read_at:
                raise Conflict("The appointment was changed by someone else; read it again.")
            business = require_business(session, business_id)
            service = _service(session, business.id, changes.service_id)
            spec, start, end = _shape(service, changes)
            check_answers(service, changes.customers)
            asked = own_staff(authority, changes.staff_ids) if changes.staff_ids else ()
            staff_ids = list(asked) or appointment.staff_member_ids
            moves = (service.id, start, end, spec.pre_buffer, spec.post_buffer, staff_ids) != (
                appointment.service_id,
                appointment.start_date_time,
                appointment.end_date_time,
                timedelta(seconds=appointment.pre_buffer_seconds),
                timedelta(seconds=appointment.post_buffer_seconds),
                appointment.staff_member_ids,
            )
            overridden: list[str] = []
            seats = _seats(spec, changes.customers)
            if moves:
                cutoff = check_change_cutoff(session, appointment, authority, now)
                chosen = _claim_staff(
                    session,
                    business,
                    service,
                    spec,
                    asked,
                    start,
                    end,
                    authority=authority,
                    now=now,
                    exclude=appointment.id,
                    seats=seats,
                )
                overridden = [
                    *_overridden(business, service, spec, chosen, start, end, authority, now)
                ]
                overridden += [cutoff] if cutoff else []
                _release(session, appointment.id)
                appointment.service_id = service.id
                appointment.display_name = service.display_name
                appointment.start_date_time, appointment.end_date_time = start, end
                appointment.pre_buffer_seconds = int(spec.pre_buffer.total_seconds())
                appointment.post_buffer_seconds = int(spec.post_buffer.total_seconds())
                appointment.blocked_start = start - spec.pre_buffer
                appointment.blocked_end = end + spec.post_buffer
                appointment.staff_member_ids = [member.id for member in chosen]
            elif seats > appointment.seats:
                _check_seats(session, appointment, spec, seats)
            appointment.customers = _customers(session, business.id, changes.customers)
            appointment.customer_time_zone = changes.customer_time_zone
            appointment.seats = _seats(spec, appointment.customers)
            appointment.details = dict(changes.details)
            appointment.last_updated_date_time = now
            session.flush()
            if moves:
                _hold(session, appointment, spec)
            audit.record(
                session,
                "openvisit.appointment.rescheduled" if moves else "openvisit.appointment.updated",
                actor=authority.actor,
                subject=appointment.id,
                at=now,
                data={"businessId": business.id},
            )
            if overridden:
                audit.record(
                    session,
                    **_override_row(authority, appointment.id, business.id, overridden, now),
                )
            session.flush()
            return appointment
    except IntegrityError as error:
        raise Conflict("The time is already booked for that staff member.") from error


def cancel(
    db: Database,
    clock: Clock,
    business_id: str,
    appointment_id: str,
    message: str | None,
    *,
    authority: Authority,
) -> Appointment:
    """Cancel: the staff time is freed at once, the record stays for history."""
    now = clock.now()
    with db.write() as session:
        appointment = _active(session, business_id, appointment_id)
        check_owned(authority.own_staff_id, appointment)
        cutoff = check_change_cutoff(session, appointment, authority, now)
        _release(session, appointment.id)
        appointment.status, appointment.cancellation_message = CANCELLED, message
        appointment.cancelled_date_time = appointment.last_updated_date_time = now
        audit.record(
            session,
            "openvisit.appointment.cancelled",
            actor=authority.actor,
            subject=appointment.id,
            at=now,
            data={"message": message or ""},
        )
        if cutoff:
            audit.record(
                session,
                **_override_row(authority, appointment.id, appointment.business_id, [cutoff], now),
            )
        return appointment


def delete(
    db: Database,
    clock: Clock,
    business_id: str,
    appointment_id: str,
    *,
    actor: str,
    own_staff_id: str | None = None,
) -> None:
    """Delete an appointment; with `own_staff_id`, only one of that staff member's."""
    with db.write() as session:
        appointment = load_appointment(session, business_id, appointment_id)
        check_owned(own_staff_id, appointment)
        session.delete(appointment)
        audit.record(
            session,
            "openvisit.appointment.deleted",
            actor=actor,
            subject=appointment_id,
            at=clock.now(),
        )


def get_appointment(
    db: Database, business_id: str, appointment_id: str, *, own_staff_id: str | None = None
) -> Appointment:
    """An appointment; with `own_staff_id`, only one of that staff member's."""
    with db.read() as session:
        appointment = load_appointment(session, business_id, appointment_id)
    check_owned(own_staff_id, appointment)
    return appointment


def load_appointment(session: Session, business_id: str, appointment_id: str) -> Appointment:
    business = require_business(session, business_id)
    # An id with U+0000 names nothing, and PostgreSQL refuses to even look it up.
    appointment = None if "\x00" in appointment_id else session.get(Appointment, appointment_id)
    if appointment is None or appointment.business_id != business.id:
        raise NotFound(f"The appointment '{appointment_id}' does not exist in '{business_id}'.")
    return appointment


def check_change_cutoff(
    session: Session, appointment: Appointment, authority: Authority, now: datetime
) -> str | None:
    """Reschedule and cancel close the service's changeCutoff before the start.

    Graph has no such policy; without one a customer could cancel a minute before a
    consultation the provider has prepared for. A caller who asked to override the
    booking rules (and may) still changes it: then the rule set aside is returned.
    """
    service = session.get(Service, appointment.service_id) if appointment.service_id else None
    cutoff = timedelta(seconds=service.change_cutoff_seconds if service else 0)
    if now <= appointment.start_date_time - cutoff:
        return None
    closed = "once it has started" if not cutoff else f"within {cutoff} of its start"
    if not authority.override_hours:
        raise Conflict(f"The appointment can no longer be changed or cancelled {closed}.")
    return f"it is changed {closed}"


def check_answers(service: Service, customers: Sequence[Mapping[str, Any]]) -> None:
    """Every customer answers every question the service marks as required."""
    required = [item["questionId"] for item in service.custom_questions if item.get("isRequired")]
    for index, customer in enumerate(customers):
        answered = {
            answer.get("questionId")
            for answer in customer.get("customQuestionAnswers") or []
            if (answer.get("answer") or "").strip() or answer.get("selectedOptions")
        }
        for question_id in required:
            if question_id not in answered:
                raise InvalidInput(
                    f"Invalid value for 'customers.{index}.customQuestionAnswers': the "
                    f"required question '{question_id}' is not answered.",
                    target="customQuestionAnswers",
                )


def _active(session: Session, business_id: str, appointment_id: str) -> Appointment:
    appointment = load_appointment(session, business_id, appointment_id)
    if appointment.status != ACTIVE:
        raise Conflict(f"The appointment '{appointment_id}' is cancelled.")
    return appointment


def _service(session: Session, business_id: str, service_id: str) -> Service:
    service = session.get(Service, service_id)
    if service is not None and service.business_id != business_id:
        service = None
    return _require_service(service, service_id)


def _require_service(service: Service | None, service_id: str) -> Service:
    if service is None:
        raise InvalidInput(
            f"Invalid value for 'serviceId': no service '{service_id}' in this business.",
            target="serviceId",
        )
    return service


def _business_and_service(
    session: Session, business_id: str, service_id: str
) -> tuple[Business, Service | None]:
    """The business (or NotFound) and its service by that id, in one round trip."""
    # An id with U+0000 names nothing, and PostgreSQL refuses to even look it up; no
    # service has the empty id either.
    row = (
        None
        if "\x00" in business_id
        else session.execute(
            _BUSINESS_AND_SERVICE,
            {
                "business_id": business_id.lower(),
                "service_id": "" if "\x00" in service_id else service_id,
            },
        ).first()
    )
    if row is None:
        raise business_not_found(business_id)
    return row[0], row[1]


def _shape(service: Service, request: AppointmentRequest) -> tuple[ServiceSpec, datetime, datetime]:
    spec = service_spec(service)
    if request.pre_buffer is not None or request.post_buffer is not None:
        spec = replace(
            spec,
            pre_buffer=spec.pre_buffer if request.pre_buffer is None else request.pre_buffer,
            post_buffer=spec.post_buffer if request.post_buffer is None else request.post_buffer,
        )
    start = request.start
    end = request.end or start + spec.duration
    if end <= start:
        raise InvalidInput(
            "Invalid value for 'endDateTime': it must be after startDateTime.", target="endDateTime"
        )
    if end - start > MAX_SPAN:
        raise InvalidInput(
            "Invalid value for 'endDateTime': an appointment lasts at most a day.",
            target="endDateTime",
        )
    return spec, start, end


def _customers(
    session: Session, business_id: str, customers: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Customers as stored; a customerId must name a customer of this business."""
    stored = []
    for index, item in enumerate(customers):
        customer_id = item.get("customerId")
        if customer_id:
            record = session.get(Customer, customer_id)
            if record is None or record.business_id != business_id:
                raise InvalidInput(
                    f"Invalid value for 'customers.{index}.customerId': no "
                    f"customer '{customer_id}' in this business.",
                    target="customerId",
                )
            stored.append(
                {"name": record.display_name, "emailAddress": record.email_address, **item}
            )
        else:
            stored.append(dict(item))
    return stored


def _seats(spec: ServiceSpec, customers: Sequence[Mapping[str, Any]]) -> int:
    """Seats the customers take; more than the service has at all is the caller's error."""
    if spec.capacity > 1 and len(customers) > spec.capacity:
        raise InvalidInput(
            f"Invalid value for 'customers': the service seats at most {spec.capacity} "
            f"customers, not {len(customers)}.",
            target="customers",
        )
    return max(len(customers), 1) if spec.capacity > 1 else 1


def _check_seats(session: Session, appointment: Appointment, spec: ServiceSpec, seats: int) -> None:
    """Refuse added customers when the sitting's other bookings leave too few seats."""
    start, end = appointment.start_date_time, appointment.end_date_time
    lock_staff_time(session, appointment.staff_member_ids)
    busy = staff_bookings(
        session,
        appointment.staff_member_ids,
        Interval(start - spec.pre_buffer, end + spec.post_buffer),
        exclude=appointment.id,
    )
    for staff_id in appointment.staff_member_ids:
        reason = refusal(
            spec, start, end, busy[staff_id], working=None, policy=None, now=start, seats=seats
        )
        if reason is not None:
            raise outcomes.SlotRefused(
                f"The customers cannot be added: {reason}.",
                reasons=[REFUSAL_CODES.get(reason, "other")],
            )


def _candidates(
    session: Session, business_id: str, service: Service, staff_ids: Sequence[str]
) -> list[StaffMember]:
    """The staff asked for, or (none asked) everyone who delivers the service, in order."""
    wanted = list(dict.fromkeys(staff_ids)) or list(service.staff_member_ids)
    if wanted:
        rows = session.scalars(_NAMED_STAFF, {"business_id": business_id, "staff_ids": wanted})
    else:
        rows = session.scalars(_ALL_STAFF, {"business_id": business_id})
    found = {member.id: member for member in rows}
    if staff_ids:
        missing = [staff_id for staff_id in wanted if staff_id not in found]
        if missing:
            raise InvalidInput(
                f"Invalid value for 'staffMemberIds': no staff member "
                f"'{missing[0]}' in this business.",
                target="staffMemberIds",
            )
    ordered = (
        [found[staff_id] for staff_id in wanted if staff_id in found]
        if wanted
        else sorted(found.values(), key=lambda member: (member.created_date_time, member.id))
    )
    if not ordered:
        raise Conflict("No staff member delivers this service.")
    return ordered


def _claim_staff(
    session: Session,
    business: Business,
    service: Service,
    spec: ServiceSpec,
    staff_ids: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    authority: Authority,
    now: datetime,
    exclude: str | None = None,
    seats: int = 1,
) -> list[StaffMember]:
    """Lock the candidates' time, then pick who gets the appointment (see `_choose`)."""
    candidates = _candidates(session, business.id, service, staff_ids)
    lock_staff_time(session, [member.id for member in candidates])
    return _choose(
        session,
        business,
        service,
        spec,
        candidates,
        start,
        end,
        explicit=bool(staff_ids),
        authority=authority,
        now=now,
        exclude=exclude,
        seats=seats,
    )


def _choose(
    session: Session,
    business: Business,
    service: Service,
    spec: ServiceSpec,
    candidates: Sequence[StaffMember],
    start: datetime,
    end: datetime,
    *,
    explicit: bool,
    authority: Authority,
    now: datetime,
    exclude: str | None = None,
    seats: int = 1,
) -> list[StaffMember]:
    """The staff who get the appointment: all asked for, or the least booked free one."""
    reach = Interval(start - spec.pre_buffer - MAX_SPAN, end + spec.post_buffer + MAX_SPAN)
    busy = staff_bookings(session, [member.id for member in candidates], reach, exclude=exclude)
    policy = None if authority.override_hours else booking_policy(service, business)
    reasons: dict[str, str] = {}
    codes: list[str] = []
    for member in candidates:
        working = None if authority.override_hours else bookable_time(member, business, reach)
        reason = refusal(
            spec, start, end, busy[member.id], working=working, policy=policy, now=now, seats=seats
        )
        if reason:
            reasons[member.id] = f"{member.display_name}: {reason}"
            codes.append(REFUSAL_CODES.get(reason, "other"))
    if explicit:
        if reasons:
            raise outcomes.SlotRefused(
                "The appointment cannot be booked: " + "; ".join(reasons.values()), reasons=codes
            )
        return list(candidates)
    free = [member for member in candidates if member.id not in reasons]
    if not free:
        detail = "; ".join(reasons.values())
        raise outcomes.SlotRefused(
            f"No staff member is free for that time ({detail}).", reasons=codes
        )
    load = _day_load(session, business, [member.id for member in free], start)
    # Least booked that day; ties keep the service's staff order, so the pick is stable.
    return [min(free, key=lambda member: load.get(member.id, 0))]


def _overridden(
    business: Business,
    service: Service,
    spec: ServiceSpec,
    staff: Sequence[StaffMember],
    start: datetime,
    end: datetime,
    authority: Authority,
    now: datetime,
) -> tuple[str, ...]:
    """The hours and policy rules an override set aside for the chosen staff (audited).

    Runs only for a caller who asked to override, so the plain booking path pays nothing;
    overlap was already checked, so only hours and policy can show up here.
    """
    if not authority.override_hours:
        return ()
    reach = Interval(start - spec.pre_buffer - MAX_SPAN, end + spec.post_buffer + MAX_SPAN)
    policy = booking_policy(service, business)
    reasons = (
        (
            member,
            refusal(
                spec,
                start,
                end,
                [],
                working=bookable_time(member, business, reach),
                policy=policy,
                now=now,
            ),
        )
        for member in staff
    )
    return tuple(f"{member.display_name}: {reason}" for member, reason in reasons if reason)


def _override_row(
    authority: Authority,
    appointment_id: str,
    business_id: str,
    rules: Sequence[str],
    now: datetime,
) -> dict[str, Any]:
    """The audit row naming who set aside which booking rules for which appointment."""
    return audit.row(
        OVERRIDE_ACTION,
        actor=authority.actor,
        subject=appointment_id,
        at=now,
        data={"businessId": business_id, "rules": list(rules)},
    )


def _day_load(
    session: Session, business: Business, staff_ids: Sequence[str], start: datetime
) -> dict[str, int]:
    zone = business_zone(business)
    day = start.astimezone(zone).date()
    first = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    last = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    rows = session.execute(
        select(StaffHold.staff_id, func.count())
        .join(Appointment, Appointment.id == StaffHold.appointment_id)
        .where(
            StaffHold.staff_id.in_(staff_ids),
            # Implied by the start lying in the day (a hold spans its appointment); stated
            # so the staff-and-end index bounds the scan to that day, not all history.
            StaffHold.blocked_end > first,
            StaffHold.blocked_start < last,
            Appointment.start_date_time >= first,
            Appointment.start_date_time < last,
        )
        .group_by(StaffHold.staff_id)
    ).all()
    return {str(staff_id): int(count) for staff_id, count in rows}


def _hold(session: Session, appointment: Appointment, spec: ServiceSpec) -> None:
    row = {
        column: getattr(appointment, column)
        for column in ("id", "business_id", "start_date_time", "end_date_time")
    }
    row.update(
        staff_member_ids=appointment.staff_member_ids,
        blocked_start=appointment.blocked_start,
        blocked_end=appointment.blocked_end,
    )
    session.execute(insert(table_of(StaffHold)), _holds(row, spec))


def _holds(appointment: Mapping[str, Any], spec: ServiceSpec) -> list[dict[str, Any]]:
    """One staff_holds row per staff member of an appointment (given as column values)."""
    key = (
        group_key(spec.id, appointment["start_date_time"], appointment["end_date_time"])
        if spec.capacity > 1
        else appointment["id"]
    )
    return [
        {
            "appointment_id": appointment["id"],
            "staff_id": staff_id,
            "business_id": appointment["business_id"],
            "blocked_start": appointment["blocked_start"],
            "blocked_end": appointment["blocked_end"],
            "group_key": key,
        }
        for staff_id in appointment["staff_member_ids"]
    ]


def _release(session: Session, appointment_id: str) -> None:
    session.execute(sql_delete(StaffHold).where(StaffHold.appointment_id == appointment_id))


def _replay(session: Session, business_id: str, key: str, fingerprint: str) -> Appointment | None:
    row = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.business_id == business_id, IdempotencyKey.key == key
        )
    )
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise Conflict("This Idempotency-Key was already used with a different request.")
    return session.get(Appointment, row.appointment_id)


def _replay_committed(
    db: Database, business_id: str, key: str, fingerprint: str
) -> Appointment | None:
    with db.read() as session:
        return _replay(session, business_id.lower(), key, fingerprint)
