"""The staff_holds rows that make an appointment's staff time busy.

One row per staff member of a booked appointment; the exclusion constraint on
PostgreSQL and every busy-time read work on these rows, not on appointments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from openvisit.scheduling.booking import group_key
from openvisit.scheduling.slots import ServiceSpec
from openvisit.store.booking_queries import add_holds, release_holds
from openvisit.store.models import Appointment


def hold(session: Session, appointment: Appointment, spec: ServiceSpec) -> None:
    """Insert the holds of an appointment already in the session."""
    row = {
        column: getattr(appointment, column)
        for column in ("id", "business_id", "start_date_time", "end_date_time")
    }
    row.update(
        staff_member_ids=appointment.staff_member_ids,
        blocked_start=appointment.blocked_start,
        blocked_end=appointment.blocked_end,
    )
    add_holds(session, holds_of(row, spec))


def holds_of(appointment: Mapping[str, Any], spec: ServiceSpec) -> list[dict[str, Any]]:
    """One staff_holds row per staff member of an appointment (given as column values)."""
    key = (
        group_key(spec.id, appointment["start_date_time"], appointment["end_date_time"])
        if spec.capacity > 1
        else appointment["id"]
    )
    return [
        {
            "appointment_id": appointment["id"],
            "staff_id": staff_id,
            "business_id": appointment["business_id"],
            "blocked_start": appointment["blocked_start"],
            "blocked_end": appointment["blocked_end"],
            "group_key": key,
        }
        for staff_id in appointment["staff_member_ids"]
    ]


def release(session: Session, appointment_id: str) -> None:
    """Free an appointment's staff time (it is cancelled, or about to move)."""
    release_holds(session, appointment_id)
