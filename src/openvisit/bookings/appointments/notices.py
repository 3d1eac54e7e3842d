"""The messages each appointment change causes, written in that change's transaction.

Booking, moving, editing, cancelling and deleting call one of these with the rows they
already hold; notify/planning.py decides who hears what, notify/plans.py writes it. A
change that rolls back takes its messages with it, and one that commits cannot lose them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from openvisit.notify import planning, plans
from openvisit.notify.planning import Situation, StaffContact
from openvisit.notify.queue import Planned
from openvisit.store.models import Appointment, Business, Service, StaffMember


def situation_for(
    appointment: Appointment | Mapping[str, Any],
    business: Business,
    service: Service | None,
    staff: Sequence[StaffMember],
) -> Situation:
    """Planning's view of an appointment (a row, or the dict a booking inserts)."""
    values = _values(appointment)
    return Situation(
        appointment_id=values["id"],
        start=values["start_date_time"],
        end=values["end_date_time"],
        sequence=values["ical_sequence"],
        customers=values["customers"],
        details=values["details"],
        staff=[_contact(member) for member in staff],
        service_reminders=service.default_reminders if service is not None else (),
        service_sms_enabled=service.sms_notifications_enabled if service is not None else False,
        customer_language=values["customer_language"],
        service_language=service.language_tag if service is not None else None,
        business_language=business.language_tag,
        business_country=(business.address or {}).get("countryOrRegion"),
    )


def booked_rows(
    situation: Situation, business_id: str, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows (and their log rows) for a new booking, to insert beside the appointment."""
    return plans.new_rows(
        planning.booked(situation, now),
        business_id=business_id,
        appointment_id=situation.appointment_id,
        now=now,
    )


def after_move(
    session: Session,
    appointment: Appointment,
    business: Business,
    service: Service | None,
    *,
    previous_start: datetime,
    previous_end: datetime,
    previous_staff: Sequence[StaffMember],
    now: datetime,
) -> None:
    """The appointment moved (time, service or staff): notices and reminders follow it.

    Customers hear it moved. A provider who keeps it hears it moved, one who joins hears
    of a booking, one who leaves hears it is cancelled for them.
    """
    appointment.ical_sequence += 1
    staff = _staff(session, appointment.staff_member_ids)
    situation = situation_for(appointment, business, service, staff)
    moved = {
        "previousStart": previous_start.isoformat(),
        "previousEnd": previous_end.isoformat(),
    }
    kept = {member.id for member in previous_staff} & set(appointment.staff_member_ids)
    joined = [member for member in staff if member.id not in kept]
    left = [
        member for member in previous_staff if member.id not in set(appointment.staff_member_ids)
    ]
    notices = [
        *planning.notices(
            situation, planning.RESCHEDULED, planning.customer_recipients(situation), now, moved
        ),
        *_staff_notices(
            situation, planning.STAFF_RESCHEDULED, [m for m in staff if m.id in kept], now, moved
        ),
        *_staff_notices(situation, planning.STAFF_BOOKED, joined, now),
        *_staff_notices(
            situation, planning.STAFF_CANCELLED, left, now, {"cancellationMessage": None, **moved}
        ),
    ]
    plans.replan(session, situation, business.id, now, notices=notices)


def after_update(
    session: Session,
    appointment: Appointment,
    business: Business,
    service: Service | None,
    now: datetime,
) -> None:
    """Details changed but not the time: reminders follow the recipients and texts."""
    staff = _staff(session, appointment.staff_member_ids)
    plans.replan(session, situation_for(appointment, business, service, staff), business.id, now)


def after_cancel(
    session: Session,
    appointment: Appointment,
    business: Business,
    service: Service | None,
    *,
    message: str | None,
    now: datetime,
) -> None:
    """Nothing unsent goes out any more; customers and providers hear it is cancelled."""
    plans.cancel_open(session, appointment.id, now, "the appointment was cancelled")
    appointment.ical_sequence += 1
    staff = _staff(session, appointment.staff_member_ids)
    situation = situation_for(appointment, business, service, staff)
    data = {"cancellationMessage": message}
    notices = [
        *planning.notices(
            situation, planning.CANCELLED, planning.customer_recipients(situation), now, data
        ),
        *_staff_notices(situation, planning.STAFF_CANCELLED, staff, now, data),
    ]
    plans.add(session, notices, business_id=business.id, appointment_id=appointment.id, now=now)


def after_delete(session: Session, appointment_id: str, now: datetime) -> None:
    """A deleted appointment sends nothing more (Graph's DELETE notifies no one)."""
    plans.cancel_open(session, appointment_id, now, "the appointment was deleted")


def _staff_notices(
    situation: Situation,
    kind: str,
    members: Sequence[StaffMember],
    now: datetime,
    data: Mapping[str, Any] | None = None,
) -> list[Planned]:
    """`kind` to these providers (who may no longer be the appointment's own)."""
    theirs = replace(situation, staff=[_contact(member) for member in members])
    return planning.notices(theirs, kind, planning.staff_recipients(theirs), now, data)


def _staff(session: Session, staff_ids: Sequence[str]) -> list[StaffMember]:
    found = [session.get(StaffMember, staff_id) for staff_id in staff_ids]
    return [member for member in found if member is not None]


def _contact(member: StaffMember) -> StaffContact:
    return StaffContact(
        id=member.id,
        name=member.display_name,
        email=member.email_address,
        notifications_enabled=member.is_email_notification_enabled,
    )


def _values(appointment: Appointment | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(appointment, Appointment):
        return {
            "id": appointment.id,
            "start_date_time": appointment.start_date_time,
            "end_date_time": appointment.end_date_time,
            "ical_sequence": appointment.ical_sequence,
            "customers": appointment.customers,
            "details": appointment.details,
            "customer_language": appointment.customer_language,
        }
    return appointment
