"""Staff time on the booking path: who may get an appointment, and who is free.

Every read of other bookings' time happens here, under `lock_staff_time` when it decides
a write (on SQLite, where booking first decides in a plain read, `still_free` re-reads
the chosen staff's time under the write lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from openvisit.bookings import outcomes
from openvisit.bookings.appointments.checks import MAX_SPAN
from openvisit.bookings.authority import Authority
from openvisit.bookings.availability import bookable_time, booking_policy, business_zone
from openvisit.errors import Conflict, InvalidInput
from openvisit.scheduling.booking import REFUSAL_CODES, refusal
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.slots import ServiceSpec
from openvisit.store.booking_queries import (
    appointments_per_staff,
    staff_bookings,
    staff_members,
)
from openvisit.store.locking import lock_staff_time
from openvisit.store.models import Appointment, Business, Service, StaffMember


def still_free(
    session: Session,
    spec: ServiceSpec,
    start: datetime,
    end: datetime,
    staff_ids: Sequence[str],
    *,
    seats: int,
    now: datetime,
) -> bool:
    """Whether staff drafted for [start, end) are still free, read under the write lock.

    Only the overlap rule can have changed since the draft: hours, policy and answers
    do not depend on other bookings. Bookings that can collide are exactly those whose
    buffered range meets this one's.
    """
    busy = staff_bookings(
        session, staff_ids, Interval(start - spec.pre_buffer, end + spec.post_buffer)
    )
    return all(
        refusal(spec, start, end, busy[staff_id], working=None, policy=None, now=now, seats=seats)
        is None
        for staff_id in staff_ids
    )


def check_seats_left(
    session: Session, appointment: Appointment, spec: ServiceSpec, seats: int
) -> None:
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
                [REFUSAL_CODES.get(reason, "other")],
                detail=f"the customers cannot be added: {reason}",
            )


def candidates(
    session: Session,
    business_id: str,
    service: Service,
    staff_ids: Sequence[str],
    *,
    override: bool = False,
) -> list[StaffMember]:
    """The staff asked for, or (none asked) everyone who delivers the service, in order.

    Staff asked for must deliver the service when it names who does (the booking pages
    and slot listings offer no one else); a caller who may override the rules may name
    anyone, and `overridden_rules` audits it.
    """
    wanted = list(dict.fromkeys(staff_ids)) or list(service.staff_member_ids)
    found = {member.id: member for member in staff_members(session, business_id, wanted)}
    if staff_ids:
        missing = [staff_id for staff_id in wanted if staff_id not in found]
        if missing:
            raise InvalidInput("unknownStaff", target="staffMemberIds", staff=missing[0])
        outside = [staff_id for staff_id in wanted if not delivers(service, staff_id)]
        if outside and not override:
            raise InvalidInput(
                "staffNotOnService", target="staffMemberIds", staff=found[outside[0]].display_name
            )
    ordered = (
        [found[staff_id] for staff_id in wanted if staff_id in found]
        if wanted
        else sorted(found.values(), key=lambda member: (member.created_date_time, member.id))
    )
    if not ordered:
        raise Conflict("noStaffForService")
    return ordered


def delivers(service: Service, staff_id: str) -> bool:
    """Whether the service is given by this staff member (an empty list: by everyone)."""
    return not service.staff_member_ids or staff_id in service.staff_member_ids


def claim_staff(
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
    """Lock the candidates' time, then pick who gets the appointment (see `choose`)."""
    members = candidates(
        session, business.id, service, staff_ids, override=authority.override_hours
    )
    lock_staff_time(session, [member.id for member in members])
    return choose(
        session,
        business,
        service,
        spec,
        members,
        start,
        end,
        explicit=bool(staff_ids),
        authority=authority,
        now=now,
        exclude=exclude,
        seats=seats,
    )


def choose(
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
            raise outcomes.SlotRefused(codes, detail="; ".join(reasons.values()))
        return list(candidates)
    free = [member for member in candidates if member.id not in reasons]
    if not free:
        detail = "; ".join(reasons.values())
        raise outcomes.SlotRefused(codes, detail=f"no staff member is free ({detail})")
    load = day_load(session, business, [member.id for member in free], start)
    # Least booked that day; ties keep the service's staff order, so the pick is stable.
    return [min(free, key=lambda member: load.get(member.id, 0))]


def day_load(
    session: Session, business: Business, staff_ids: Sequence[str], start: datetime
) -> dict[str, int]:
    """Appointments each staff member has on the business-local day `start` falls in."""
    zone = business_zone(business)
    day = start.astimezone(zone).date()
    first = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    last = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return appointments_per_staff(session, business.id, staff_ids, first, last)
