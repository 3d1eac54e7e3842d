"""Rescheduling and PATCH: moving, re-staffing or editing an appointment under the rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.bookings import outcomes
from openvisit.bookings.appointments import notices
from openvisit.bookings.appointments.changes import AppointmentChanges, merged
from openvisit.bookings.appointments.checks import (
    check_answers,
    check_change_cutoff,
    overridden_rules,
    override_row,
    seats_for,
    shape,
    stored_customers,
)
from openvisit.bookings.appointments.holds import hold, release
from openvisit.bookings.appointments.lookup import (
    active,
    business_service,
    check_on_calendar,
    load_appointment,
)
from openvisit.bookings.appointments.request import AppointmentRequest
from openvisit.bookings.appointments.staffing import check_seats_left, claim_staff
from openvisit.bookings.authority import Authority, check_owned, own_staff
from openvisit.bookings.records import require_business
from openvisit.bookings.views import AppointmentView, snapshot
from openvisit.clock import Clock
from openvisit.errors import Conflict
from openvisit.meetings import appointment_meetings
from openvisit.scheduling.slots import ServiceSpec
from openvisit.store.db import Database
from openvisit.store.locking import is_overlap
from openvisit.store.models import Appointment, Business, Service, StaffMember


def reschedule(
    db: Database,
    clock: Clock,
    business_id: str,
    appointment_id: str,
    changes: AppointmentRequest,
    *,
    authority: Authority,
    read_at: datetime | None = None,
) -> AppointmentView:
    """Move or re-staff an appointment under the same rules as booking it.

    A change that keeps the service, times, buffers and staff (notes, answers, customers)
    does not re-check hours or lead time: editing notes of a started appointment is fine.
    `read_at` is the lastUpdatedDateTime the caller built `changes` from; if the
    appointment changed since, the request is refused rather than undoing that change.
    """
    now = clock.now()
    with _refusing_overlap(), db.write() as session:
        appointment = active(session, business_id, appointment_id)
        check_owned(authority.own_staff_id, appointment)
        if read_at is not None and appointment.last_updated_date_time != read_at:
            raise Conflict("changedMeanwhile")
        return snapshot(AppointmentView, _apply(session, appointment, changes, authority, now))


def update(
    db: Database,
    clock: Clock,
    business_id: str,
    appointment_id: str,
    changes: AppointmentChanges,
    *,
    authority: Authority,
) -> AppointmentView:
    """PATCH: lay the sent properties over the appointment and reschedule it to the result.

    The merge reads the appointment inside the write transaction that changes it, not in
    a read before it, so no staleness check is needed: a change committed before this
    transaction read the row is merged with, not undone.
    """
    now = clock.now()
    with _refusing_overlap(), db.write() as session:
        appointment = load_appointment(session, business_id, appointment_id)
        check_owned(authority.own_staff_id, appointment)
        check_on_calendar(appointment)
        request = merged(appointment, changes)
        return snapshot(AppointmentView, _apply(session, appointment, request, authority, now))


@contextmanager
def _refusing_overlap() -> Iterator[None]:
    try:
        yield
    except IntegrityError as error:
        if not is_overlap(error):
            raise
        raise outcomes.SlotRefused(
            ["conflict"], detail="the time is already booked for that staff member"
        ) from error


def _apply(
    session: Session,
    appointment: Appointment,
    changes: AppointmentRequest,
    authority: Authority,
    now: datetime,
) -> Appointment:
    business = require_business(session, appointment.business_id)
    service = business_service(session, business.id, changes.service_id)
    spec, start, end = shape(service, changes)
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
    seats = seats_for(spec, changes.customers)
    before = (appointment.start_date_time, appointment.end_date_time)
    staff_before = [
        member
        for member in (
            session.get(StaffMember, staff_id) for staff_id in appointment.staff_member_ids
        )
        if member is not None
    ]
    if moves:
        overridden = _move(
            session, appointment, business, service, spec, asked, start, end, authority, now, seats
        )
    elif seats > appointment.seats:
        check_seats_left(session, appointment, spec, seats)
    appointment.customers = stored_customers(session, business.id, changes.customers)
    appointment.customer_time_zone = changes.customer_time_zone
    appointment.seats = seats_for(spec, appointment.customers)
    appointment.details = dict(changes.details)
    appointment.last_updated_date_time = now
    session.flush()
    if moves:
        hold(session, appointment, spec)
        notices.after_move(
            session,
            appointment,
            business,
            service,
            previous_start=before[0],
            previous_end=before[1],
            previous_staff=staff_before,
            now=now,
        )
    else:
        notices.after_update(session, appointment, business, service, now)
    staff_now = [session.get(StaffMember, staff_id) for staff_id in appointment.staff_member_ids]
    appointment_meetings.follow_appointment(
        session,
        appointment,
        [member.email_address for member in staff_now if member is not None],
        actor=authority.actor,
        now=now,
    )
    audit.record(
        session,
        Action.APPOINTMENT_RESCHEDULED if moves else Action.APPOINTMENT_UPDATED,
        actor=authority.actor,
        subject=appointment.id,
        at=now,
        data={"businessId": business.id},
    )
    if overridden:
        audit.add(session, [override_row(authority, appointment.id, business.id, overridden, now)])
    session.flush()
    return appointment


def _move(
    session: Session,
    appointment: Appointment,
    business: Business,
    service: Service,
    spec: ServiceSpec,
    asked: Sequence[str],
    start: datetime,
    end: datetime,
    authority: Authority,
    now: datetime,
    seats: int,
) -> list[str]:
    """Give the appointment its new time, service and staff; the rules an override set aside."""
    cutoff = check_change_cutoff(session, appointment, authority, now)
    chosen = claim_staff(
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
    overridden = [*overridden_rules(business, service, spec, chosen, start, end, authority, now)]
    overridden += [cutoff] if cutoff else []
    release(session, appointment.id)
    appointment.service_id = service.id
    appointment.display_name = service.display_name
    appointment.start_date_time, appointment.end_date_time = start, end
    appointment.pre_buffer_seconds = int(spec.pre_buffer.total_seconds())
    appointment.post_buffer_seconds = int(spec.post_buffer.total_seconds())
    appointment.blocked_start = start - spec.pre_buffer
    appointment.blocked_end = end + spec.post_buffer
    appointment.staff_member_ids = [member.id for member in chosen]
    return overridden
