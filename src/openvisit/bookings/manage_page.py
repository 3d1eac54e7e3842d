"""What a consumer's manage link shows and lets them do: view, reschedule, cancel.

The link is the consumer's only credential (manage_links.appointment_for_link checks it
on every call). Changes go through `appointments.reschedule` and `appointments.cancel`
with a customer's powers, so the service's change cutoff holds (changeCutoffPassed), and
the service's isCustomerAllowedToManageBooking, copied onto the appointment when it was
booked, can close the link to changes altogether (customerManageNotAllowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from openvisit.bookings.appointments import (
    CANCELLED,
    AppointmentRequest,
    cancel,
    check_change_cutoff,
    reschedule,
)
from openvisit.bookings.authority import Authority
from openvisit.bookings.booking_page import StaffChoice
from openvisit.bookings.manage_links import LinkedAppointment, appointment_for_link
from openvisit.bookings.views import AppointmentView, BusinessView, ServiceView, snapshot
from openvisit.clock import Clock
from openvisit.errors import Conflict, Forbidden
from openvisit.store.booking_queries import staff_members
from openvisit.store.db import Database
from openvisit.store.models import Appointment, Service

MAX_CANCEL_REASON = 500
# Why a link can only show the appointment: what the page tells the consumer.
Closed = Literal["cancelled", "notAllowed", "cutoff"]


@dataclass(frozen=True, slots=True)
class ManagedAppointment:
    appointment: AppointmentView
    business: BusinessView
    service: ServiceView | None  # None once the service is deleted: no new time to offer
    staff: tuple[StaffChoice, ...]
    closed: Closed | None
    cutoff: timedelta  # the service's change cutoff (0: until the start)


def managed_appointment(
    db: Database, clock: Clock, secret_key: str, token: str
) -> ManagedAppointment:
    """The appointment the link opens and whether it may still be changed; NotFound
    (manageLinkInvalid, manageLinkExpired) for a link that opens nothing."""
    linked = appointment_for_link(db, clock, secret_key, token)
    appointment = linked.appointment
    with db.read() as session:
        row = session.get(Appointment, appointment.id)
        service = session.get(Service, appointment.service_id) if appointment.service_id else None
        members = staff_members(session, appointment.business_id, appointment.staff_member_ids)
        names = {member.id: member.display_name for member in members}
        closed: Closed | None = _closed_by_status(linked)
        if closed is None and row is not None:
            try:
                check_change_cutoff(session, row, _customer("manageLink"), clock.now())
            except Conflict:
                closed = "cutoff"
        return ManagedAppointment(
            appointment=appointment,
            business=linked.business,
            service=snapshot(ServiceView, service) if service is not None else None,
            staff=tuple(
                StaffChoice(staff_id, names[staff_id])
                for staff_id in appointment.staff_member_ids
                if staff_id in names
            ),
            closed=closed,
            cutoff=timedelta(seconds=service.change_cutoff_seconds if service else 0),
        )


def reschedule_by_link(
    db: Database,
    clock: Clock,
    secret_key: str,
    token: str,
    start: datetime,
    *,
    read_at: datetime,
    actor: str,
) -> AppointmentView:
    """Move the appointment to `start`, keeping its length, staff, buffers and answers.

    `read_at` is the lastUpdatedDateTime the page showed: a change made since (by the
    business, or in another tab) is not undone but refused (changedMeanwhile).
    """
    linked = appointment_for_link(db, clock, secret_key, token)
    _check_may_manage(linked)
    current = linked.appointment
    request = AppointmentRequest(
        service_id=current.service_id or "",
        start=start,
        end=start + (current.end_date_time - current.start_date_time),
        staff_ids=current.staff_member_ids,
        customers=current.customers,
        customer_time_zone=current.customer_time_zone,
        pre_buffer=timedelta(seconds=current.pre_buffer_seconds),
        post_buffer=timedelta(seconds=current.post_buffer_seconds),
        details=dict(current.details),
        customer_language=current.customer_language,
    )
    return reschedule(
        db,
        clock,
        current.business_id,
        current.id,
        request,
        authority=_customer(actor),
        read_at=read_at,
    )


def cancel_by_link(
    db: Database, clock: Clock, secret_key: str, token: str, reason: str | None, *, actor: str
) -> AppointmentView:
    """Cancel the appointment, with the consumer's reason (trimmed, at most 500 characters)."""
    linked = appointment_for_link(db, clock, secret_key, token)
    _check_may_manage(linked)
    message = (reason or "").strip()[:MAX_CANCEL_REASON] or None
    current = linked.appointment
    return cancel(db, clock, current.business_id, current.id, message, authority=_customer(actor))


def _closed_by_status(linked: LinkedAppointment) -> Closed | None:
    if linked.appointment.status == CANCELLED:
        return "cancelled"
    if linked.appointment.details.get("isCustomerAllowedToManageBooking") is False:
        return "notAllowed"
    return None


def _check_may_manage(linked: LinkedAppointment) -> None:
    if linked.appointment.details.get("isCustomerAllowedToManageBooking") is False:
        raise Forbidden("customerManageNotAllowed")


def _customer(actor: str) -> Authority:
    """A consumer's powers: the booking rules hold, nothing may be set aside."""
    return Authority(actor=actor)
