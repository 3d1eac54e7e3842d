"""Cancelling (the record stays for history) and deleting appointments."""

from __future__ import annotations

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.bookings.appointments import notices
from openvisit.bookings.appointments.checks import check_change_cutoff, override_row
from openvisit.bookings.appointments.holds import release
from openvisit.bookings.appointments.lookup import CANCELLED, active, load_appointment
from openvisit.bookings.authority import Authority, check_owned
from openvisit.bookings.document_store import DocumentStore, forget_appointment_files
from openvisit.bookings.records import require_business
from openvisit.bookings.views import AppointmentView, snapshot
from openvisit.clock import Clock
from openvisit.meetings import appointment_meetings
from openvisit.store.db import Database
from openvisit.store.models import Service


def cancel(
    db: Database,
    clock: Clock,
    business_id: str,
    appointment_id: str,
    message: str | None,
    *,
    authority: Authority,
) -> AppointmentView:
    """Cancel: the staff time is freed at once, the record stays for history."""
    now = clock.now()
    with db.write() as session:
        appointment = active(session, business_id, appointment_id)
        check_owned(authority.own_staff_id, appointment)
        cutoff = check_change_cutoff(session, appointment, authority, now)
        release(session, appointment.id)
        appointment.status, appointment.cancellation_message = CANCELLED, message
        appointment.cancelled_date_time = appointment.last_updated_date_time = now
        business = require_business(session, appointment.business_id)
        service = session.get(Service, appointment.service_id) if appointment.service_id else None
        notices.after_cancel(session, appointment, business, service, message=message, now=now)
        appointment_meetings.cancel_for_appointment(
            session, appointment.id, actor=authority.actor, now=now
        )
        audit.record(
            session,
            Action.APPOINTMENT_CANCELLED,
            actor=authority.actor,
            subject=appointment.id,
            at=now,
            data={"businessId": appointment.business_id, "message": message or ""},
        )
        if cutoff:
            override = override_row(
                authority, appointment.id, appointment.business_id, [cutoff], now
            )
            audit.add(session, [override])
        return snapshot(AppointmentView, appointment)


def delete(
    db: Database,
    clock: Clock,
    business_id: str,
    appointment_id: str,
    *,
    actor: str,
    documents: DocumentStore,
    own_staff_id: str | None = None,
) -> None:
    """Delete an appointment; with `own_staff_id`, only one of that staff member's.

    Its uploaded documents go with it, their files once the deletion commits.
    """
    with db.write() as session:
        appointment = load_appointment(session, business_id, appointment_id)
        check_owned(own_staff_id, appointment)
        notices.after_delete(session, appointment.id, clock.now())
        forget_appointment_files(session, documents, appointment.id)
        appointment_meetings.delete_for_appointment(
            session, appointment.id, actor=actor, now=clock.now()
        )
        session.delete(appointment)
        # The row is the only trace left of the appointment: say what it was.
        gone = {
            "businessId": appointment.business_id,
            "start": appointment.start_date_time.isoformat(),
            "staff": list(appointment.staff_member_ids),
            "status": appointment.status,
        }
        audit.record(
            session,
            Action.APPOINTMENT_DELETED,
            actor=actor,
            subject=appointment_id,
            at=clock.now(),
            data=gone,
        )
