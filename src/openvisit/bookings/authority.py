"""What a booking caller may do beyond the rules every customer follows.

The REST API decides it per request from the caller's role and scopes (auth/access.py)
and hands it to the appointment use-cases, which enforce it inside their transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openvisit.errors import Forbidden, NotFound
from openvisit.store.models import Appointment

OVERRIDE_ACTION = "openvisit.appointment.rulesOverridden"


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


def own_staff(authority: Authority, staff_ids: Sequence[str]) -> tuple[str, ...]:
    """The staff a request may name: a team member books on their own calendar only."""
    own = authority.own_staff_id
    if own is None:
        return tuple(staff_ids)
    if any(staff_id != own for staff_id in staff_ids):
        raise Forbidden("This role books and moves appointments on its own calendar only.")
    return (own,)


def check_owned(own_staff_id: str | None, appointment: Appointment) -> None:
    """Someone else's appointment is, to a caller limited to their own, not there at all."""
    if own_staff_id is not None and own_staff_id not in appointment.staff_member_ids:
        raise NotFound(
            f"The appointment '{appointment.id}' does not exist in '{appointment.business_id}'."
        )
