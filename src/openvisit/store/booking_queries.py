"""The named queries of the booking and availability paths.

One function per statement the booking path sends, so the services say what they read
("the staff's busy time in this window", "each one's load that day") and the SQL,
its indexes and its plans live in one place: tests/bookings/test_query_plans.py checks
these reads on both databases. Statements are built once with bound parameters:
building and cache-keying a statement on every request cost about as much as running it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.slot_counts import micros
from openvisit.scheduling.slots import Booking
from openvisit.store.models import (
    Appointment,
    Business,
    IdempotencyKey,
    Service,
    StaffHold,
    StaffMember,
    table_of,
)

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

# Only the seven columns the engine reads: loading whole appointments (JSON customers
# and details) cost several times the engine's own time for a month of 20 staff. Every
# booking runs this twice.
_BUSY = (
    select(
        StaffHold.staff_id,
        Appointment.service_id,
        Appointment.start_date_time,
        Appointment.end_date_time,
        Appointment.pre_buffer_seconds,
        Appointment.post_buffer_seconds,
        Appointment.seats,
    )
    .join(Appointment, Appointment.id == StaffHold.appointment_id)
    .where(
        StaffHold.staff_id.in_(bindparam("staff_ids", expanding=True)),
        StaffHold.blocked_start < bindparam("window_end"),
        StaffHold.blocked_end > bindparam("window_start"),
    )
)
_BUSY_EXCLUDING = _BUSY.where(StaffHold.appointment_id != bindparam("exclude"))


def business_and_service(
    session: Session, business_id: str, service_id: str
) -> tuple[Business, Service | None] | None:
    """The business by its (lower-case) id and its service by that id, in one round trip."""
    row = session.execute(
        _BUSINESS_AND_SERVICE, {"business_id": business_id, "service_id": service_id}
    ).first()
    return None if row is None else (row[0], row[1])


def staff_members(
    session: Session, business_id: str, staff_ids: Sequence[str]
) -> Sequence[StaffMember]:
    """The business's staff members with these ids, or all of them when none are named."""
    if staff_ids:
        return session.scalars(
            _NAMED_STAFF, {"business_id": business_id, "staff_ids": list(staff_ids)}
        ).all()
    return session.scalars(_ALL_STAFF, {"business_id": business_id}).all()


def staff_bookings(
    session: Session, staff_ids: Sequence[str], window: Interval, *, exclude: str | None = None
) -> dict[str, list[Booking]]:
    """Active bookings of these staff members whose buffered range meets `window`.

    One query for any number of staff members and days; `exclude` leaves one
    appointment out (the one being moved).
    """
    params = {"staff_ids": list(staff_ids), "window_start": window.start, "window_end": window.end}
    if exclude:
        rows = session.execute(_BUSY_EXCLUDING, {**params, "exclude": exclude}).all()
    else:
        rows = session.execute(_BUSY, params).all()
    busy: dict[str, list[Booking]] = {staff_id: [] for staff_id in staff_ids}
    for staff_id, service_id, start, end, pre, post, seats in rows:
        busy[staff_id].append(_booking(staff_id, service_id or "", start, end, pre, post, seats))
    return busy


def _booking(
    staff_id: str, service_id: str, start: datetime, end: datetime, pre: int, post: int, seats: int
) -> Booking:
    return Booking(
        staff_id=staff_id,
        service_id=service_id,
        start=start,
        end=end,
        pre_buffer=timedelta(seconds=pre),
        post_buffer=timedelta(seconds=post),
        seats=seats,
    )


# Only what hours and order need: loading 300 whole staff members (their JSON settings)
# cost about as much as the engine's own work.
_STAFF_HOURS = select(
    StaffMember.id,
    StaffMember.use_business_hours,
    StaffMember.time_zone,
    StaffMember.working_hours,
    StaffMember.created_date_time,
).where(StaffMember.business_id == bindparam("business_id"))
_NAMED_STAFF_HOURS = _STAFF_HOURS.where(StaffMember.id.in_(bindparam("staff_ids", expanding=True)))


def staff_hours(session: Session, business_id: str, staff_ids: Sequence[str]) -> list[Row[Any]]:
    """Id, hours and creation time of these staff members (all of the business's if none)."""
    if staff_ids:
        params = {"business_id": business_id, "staff_ids": list(staff_ids)}
        return list(session.execute(_NAMED_STAFF_HOURS, params))
    return list(session.execute(_STAFF_HOURS, {"business_id": business_id}))


# A group service's own sittings: seats and times as the engine needs them, and the
# hold's range (as read by hold_ranges) to tell them apart from other busy time.
_SITTINGS = (
    select(
        StaffHold.staff_id,
        StaffHold.blocked_start,
        StaffHold.blocked_end,
        Appointment.start_date_time,
        Appointment.end_date_time,
        Appointment.pre_buffer_seconds,
        Appointment.post_buffer_seconds,
        Appointment.seats,
    )
    .join(Appointment, Appointment.id == StaffHold.appointment_id)
    .where(
        StaffHold.staff_id.in_(bindparam("staff_ids", expanding=True)),
        StaffHold.blocked_end > bindparam("window_start"),
        StaffHold.blocked_start < bindparam("window_end"),
        Appointment.service_id == bindparam("service_id"),
    )
)


def service_sittings(
    session: Session, staff_ids: Sequence[str], service_id: str, window: Interval
) -> dict[str, list[tuple[tuple[int, int], Booking]]]:
    """Each staff member's sittings of one service meeting `window`, keyed by hold range."""
    params = {
        "staff_ids": list(staff_ids),
        "window_start": window.start,
        "window_end": window.end,
        "service_id": service_id,
    }
    found: dict[str, list[tuple[tuple[int, int], Booking]]] = {}
    for staff_id, low, high, start, end, pre, post, seats in session.execute(_SITTINGS, params):
        booking = _booking(staff_id, service_id, start, end, pre, post, seats)
        found.setdefault(staff_id, []).append(((micros(low), micros(high)), booking))
    return found


def appointments_per_staff(
    session: Session, business_id: str, staff_ids: Sequence[str], first: datetime, last: datetime
) -> dict[str, int]:
    """How many appointments starting in [first, last) each of these staff members has."""
    rows = session.execute(
        select(StaffHold.staff_id, func.count())
        .join(Appointment, Appointment.id == StaffHold.appointment_id)
        .where(
            StaffHold.staff_id.in_(staff_ids),
            # Implied by the start lying in the range (a hold spans its appointment);
            # stated so the staff-and-end index bounds the scan to it, not all history.
            StaffHold.blocked_end > first,
            StaffHold.blocked_start < last,
            # Holds are the staff's, so this changes no count; it lets a plan that starts
            # from appointments seek one business's day instead of skipping across all.
            Appointment.business_id == business_id,
            Appointment.start_date_time >= first,
            Appointment.start_date_time < last,
        )
        .group_by(StaffHold.staff_id)
    ).all()
    return {str(staff_id): int(count) for staff_id, count in rows}


def idempotency_key(session: Session, business_id: str, key: str) -> IdempotencyKey | None:
    """The stored first use of an Idempotency-Key in a business, if any."""
    return session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.business_id == business_id, IdempotencyKey.key == key
        )
    )


def add_holds(session: Session, holds: Sequence[Mapping[str, Any]]) -> None:
    """Insert staff_holds rows (on PostgreSQL the exclusion constraint checks them)."""
    session.execute(insert(table_of(StaffHold)), list(holds))


def release_holds(session: Session, appointment_id: str) -> None:
    """Delete an appointment's staff_holds rows: its staff time is free again."""
    session.execute(delete(StaffHold).where(StaffHold.appointment_id == appointment_id))


def holds_of_appointment(
    session: Session, appointment_id: str
) -> list[tuple[str, datetime, datetime]]:
    """(staff id, blocked start, blocked end) of each of the appointment's holds."""
    rows = session.execute(
        select(StaffHold.staff_id, StaffHold.blocked_start, StaffHold.blocked_end).where(
            StaffHold.appointment_id == appointment_id
        )
    )
    return [(staff_id, start, end) for staff_id, start, end in rows]
