"""What a booking caller may do beyond the rules every customer follows.

Each transport asks `grant` per request, with what auth/access.py says of the caller
(its role and scopes decide whether it may override at all), and hands the result to
the appointment use-cases, which enforce it inside their transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openvisit.bookings.views import AppointmentView
from openvisit.errors import Forbidden, NotFound
from openvisit.store.models import Appointment


@dataclass(frozen=True)
class Authority:
    """Who acts, and with which powers over the booking rules.

    `override_hours`: the caller explicitly asked to book or change outside working hours
    and the scheduling policy (lead time, maximum advance, change cutoff) and may do
    so; every rule actually set aside is audited. Overlap is never overridden.
    `own_staff_id`: the caller may touch only appointments of this staff member (a team
    member's own calendar); None means any appointment of the business.
    """

    actor: str
    override_hours: bool = False
    own_staff_id: str | None = None


def grant(
    actor: str, *, override: str | None, may_override: bool, own_staff_id: str | None
) -> Authority:
    """The powers of one request: the rules are set aside only when asked for, and only
    for a caller who may (an administrator or scheduler, or an application token with
    Bookings.Manage.All); anyone else asking is refused, never silently held to the rules.

    `override` is how the request asked to set the rules aside (the refusal names it,
    e.g. a Prefer header), or None when it did not ask.
    """
    if override is not None and not may_override:
        raise Forbidden("overrideNotAllowed", override=override)
    return Authority(actor=actor, override_hours=override is not None, own_staff_id=own_staff_id)


def own_staff(authority: Authority, staff_ids: Sequence[str]) -> tuple[str, ...]:
    """The staff a request may name: a team member books on their own calendar only."""
    own = authority.own_staff_id
    if own is None:
        return tuple(staff_ids)
    if any(staff_id != own for staff_id in staff_ids):
        raise Forbidden("ownCalendarOnly")
    return (own,)


def check_owned(own_staff_id: str | None, appointment: Appointment | AppointmentView) -> None:
    """Someone else's appointment is, to a caller limited to their own, not there at all."""
    if own_staff_id is not None and own_staff_id not in appointment.staff_member_ids:
        raise NotFound(
            "recordNotFound",
            kind="appointment",
            record=appointment.id,
            business=appointment.business_id,
        )
