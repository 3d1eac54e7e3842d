"""Appointments: book, reschedule, cancel, delete; one transaction each.

Every write path (the REST API now, the booking pages later) comes through here, so the
booking rules hold everywhere: the staff member is free (buffers included), the time is
inside their hours and business hours, lead time and maximum advance are respected, and
required custom questions are answered. An administrator or scheduler may override hours
and policy when they ask to (audited), never overlap. Overlap is checked under
`lock_staff_time` and, on PostgreSQL, refused again by the exclusion constraint on
staff_holds.

The package is split by concern; callers import from here:

- `request`: what a caller asks to book (`AppointmentRequest`).
- `changes`: what a create or PATCH sent (`AppointmentChanges`) and the request it
  amounts to, laid over the stored appointment for a PATCH.
- `lookup`: loading an appointment, its business and service (404s, cancelled -> 409).
- `checks`: the rules that do not depend on other bookings (length, seats, answers,
  change cutoff) and the audit of rules an override set aside.
- `staffing`: reading staff time: who is free, who gets an "anyone" booking.
- `holds`: the staff_holds rows that make an appointment's time busy.
- `idempotency`: replaying the first result of a retried booking.
- `booking`, `reschedule` (with `update`, the PATCH), `cancel`: the use-cases, each
  owning its transaction.
"""

from openvisit.bookings.appointments.booking import book
from openvisit.bookings.appointments.cancel import cancel, delete
from openvisit.bookings.appointments.changes import (
    KEEP,
    AppointmentChanges,
    merged,
    new_request,
)
from openvisit.bookings.appointments.checks import check_answers, check_change_cutoff
from openvisit.bookings.appointments.lookup import (
    ACTIVE,
    CANCELLED,
    get_appointment,
    load_appointment,
)
from openvisit.bookings.appointments.request import AppointmentRequest
from openvisit.bookings.appointments.reschedule import reschedule, update

__all__ = [
    "ACTIVE",
    "CANCELLED",
    "KEEP",
    "AppointmentChanges",
    "AppointmentRequest",
    "book",
    "cancel",
    "check_answers",
    "check_change_cutoff",
    "delete",
    "get_appointment",
    "load_appointment",
    "merged",
    "new_request",
    "reschedule",
    "update",
]
