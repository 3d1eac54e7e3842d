"""Loading what a booking request names: the appointment, its business and service."""

from __future__ import annotations

from sqlalchemy.orm import Session

from openvisit.bookings.authority import check_owned
from openvisit.bookings.records import business_not_found, require_business
from openvisit.bookings.views import AppointmentView, snapshot
from openvisit.errors import Conflict, InvalidInput, NotFound
from openvisit.store import booking_queries
from openvisit.store.db import Database
from openvisit.store.locking import lock_appointment
from openvisit.store.models import Appointment, Business, Service

ACTIVE = "booked"
CANCELLED = "cancelled"


def get_appointment(
    db: Database, business_id: str, appointment_id: str, *, own_staff_id: str | None = None
) -> AppointmentView:
    """A booked appointment; with `own_staff_id`, only one of that staff member's.

    A cancelled one answers 404 as in Graph, where cancelling takes the appointment off
    the business's calendar: neither version's bookingAppointment has a property that
    could tell a reader it is cancelled. Its row stays for history and audit.
    """
    with db.read() as session:
        appointment = load_appointment(session, business_id, appointment_id)
        check_owned(own_staff_id, appointment)
        check_on_calendar(appointment)
        return snapshot(AppointmentView, appointment)


def load_appointment(session: Session, business_id: str, appointment_id: str) -> Appointment:
    business = require_business(session, business_id)
    # An id with U+0000 names nothing, and PostgreSQL refuses to even look it up.
    if "\x00" in appointment_id:
        raise NotFound(
            "recordNotFound", kind="appointment", record=appointment_id, business=business_id
        )
    # In a change, the row is locked before it is read, so a concurrent change waits.
    lock_appointment(session, appointment_id)
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.business_id != business.id:
        raise NotFound(
            "recordNotFound", kind="appointment", record=appointment_id, business=business_id
        )
    return appointment


def active(session: Session, business_id: str, appointment_id: str) -> Appointment:
    """A booked appointment; a cancelled one cannot change any more (409)."""
    appointment = load_appointment(session, business_id, appointment_id)
    check_active(appointment)
    return appointment


def check_on_calendar(appointment: Appointment) -> None:
    """Reading or editing a cancelled appointment: it is off the calendar (404)."""
    if appointment.status != ACTIVE:
        raise NotFound("appointmentWasCancelled", appointment=appointment.id)


def check_active(appointment: Appointment) -> None:
    if appointment.status != ACTIVE:
        raise Conflict("appointmentCancelled", appointment=appointment.id)


def business_service(session: Session, business_id: str, service_id: str) -> Service:
    service = session.get(Service, service_id)
    if service is not None and service.business_id != business_id:
        service = None
    return require_service(service, service_id)


def require_service(service: Service | None, service_id: str) -> Service:
    if service is None:
        raise InvalidInput("unknownService", target="serviceId", service=service_id)
    return service


def business_and_service(
    session: Session, business_id: str, service_id: str
) -> tuple[Business, Service | None]:
    """The business (or NotFound) and its service by that id, in one round trip."""
    # An id with U+0000 names nothing, and PostgreSQL refuses to even look it up; no
    # service has the empty id either.
    found = (
        None
        if "\x00" in business_id
        else booking_queries.business_and_service(
            session, business_id.lower(), "" if "\x00" in service_id else service_id
        )
    )
    if found is None:
        raise business_not_found(business_id)
    return found
