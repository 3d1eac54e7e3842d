"""Named queries of the notification planner: an appointment's open rows, taken keys.

Both are read inside the booking transaction that changes the appointment, through the
`(appointment_id, status)` index, so their cost follows the appointment, not the table.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit.store.models import Notification


def open_notifications(
    session: Session, appointment_id: str, states: Collection[str]
) -> Sequence[Notification]:
    """The appointment's rows in one of `states`, oldest first."""
    return session.scalars(
        select(Notification)
        .where(Notification.appointment_id == appointment_id, Notification.status.in_(states))
        .order_by(Notification.created_at, Notification.id)
    ).all()


def taken_keys(session: Session, appointment_id: str, keys: Collection[str]) -> set[str]:
    """Which of `keys` the appointment's rows already use (sent or not)."""
    if not keys:
        return set()
    return set(
        session.scalars(
            select(Notification.idempotency_key).where(
                Notification.appointment_id == appointment_id,
                Notification.idempotency_key.in_(keys),
            )
        )
    )
