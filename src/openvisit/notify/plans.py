"""Writing what planning decided, inside the caller's transaction.

`new_rows` gives the rows of a new booking to insert together with the appointment (one
statement on PostgreSQL); `replan` and `cancel_open` change an existing appointment's
rows in the session of the use-case that moved or cancelled it. Every change to a row
is logged (`notification_events`), so the delivery log tells why a reminder moved or
never went out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from openvisit.notify import planning
from openvisit.notify.planning import Situation
from openvisit.notify.queue import CANCELLED, OPEN_STATES, PENDING, Planned, log_row, rows_for
from openvisit.store.models import Notification, NotificationEvent, table_of
from openvisit.store.notification_plans import open_notifications, taken_keys

# Notices a later change makes obsolete while still unsent: the person hears of the
# appointment as it stands now, once, not of every step that led there.
SUPERSEDED_BY_CHANGE = (
    planning.CONFIRMATION,
    planning.RESCHEDULED,
    planning.STAFF_BOOKED,
    planning.STAFF_RESCHEDULED,
)


def new_rows(
    planned: Iterable[Planned], *, business_id: str, appointment_id: str, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Notification rows and their `queued` log rows, for insert_rows."""
    rows, events = [], []
    for item in planned:
        row, event = rows_for(item, business_id=business_id, appointment_id=appointment_id, now=now)
        rows.append(row)
        events.append(event)
    return rows, events


def add(
    session: Session,
    planned: Sequence[Planned],
    *,
    business_id: str,
    appointment_id: str,
    now: datetime,
) -> None:
    """Insert `planned` rows, leaving out any whose idempotency key is already used."""
    taken = taken_keys(session, appointment_id, [item.idempotency_key for item in planned])
    fresh = [item for item in planned if item.idempotency_key not in taken]
    rows, events = new_rows(fresh, business_id=business_id, appointment_id=appointment_id, now=now)
    if rows:
        session.execute(insert(table_of(Notification)), rows)
        session.execute(insert(table_of(NotificationEvent)), events)


def replan(
    session: Session,
    situation: Situation,
    business_id: str,
    now: datetime,
    *,
    notices: Sequence[Planned] = (),
) -> None:
    """Bring the appointment's open rows in line with it as it stands now.

    Pending reminders that it should still have move to their new time; those it no
    longer should (a removed recipient, a reminder whose moment has passed) are
    cancelled; missing ones are added. With `notices` (a move), unsent notices of
    earlier states are superseded by them.
    """
    open_rows = open_notifications(session, situation.appointment_id, OPEN_STATES)
    reminders = planning.planned_reminders(situation, now, include_past=True)
    wanted = {planning.reminder_match(item): item for item in reminders}
    for row in open_rows:
        if row.kind == planning.REMINDER:
            _keep_or_cancel(session, row, wanted, now)
        elif notices and row.kind in SUPERSEDED_BY_CHANGE and row.status == PENDING:
            _cancel(session, row, now, "superseded by a later change")
    # A reminder with no row yet whose moment has passed could only arrive late.
    missing = [item for item in wanted.values() if item.due_at > now]
    add(
        session,
        [*notices, *missing],
        business_id=business_id,
        appointment_id=situation.appointment_id,
        now=now,
    )


def cancel_open(session: Session, appointment_id: str, now: datetime, reason: str) -> None:
    """Cancel every row of the appointment not yet sent (a claimed one cannot be recalled)."""
    for row in open_notifications(session, appointment_id, (PENDING,)):
        _cancel(session, row, now, reason)


def _keep_or_cancel(
    session: Session, row: Notification, wanted: dict[tuple[str, str, str], Planned], now: datetime
) -> None:
    match = wanted.pop(_row_match(row), None)
    if row.status != PENDING:
        # Being sent right now: it goes out as claimed. If the change made it wrong, the
        # reminder for the new state is planned under its own key.
        if match is not None and match.idempotency_key != row.idempotency_key:
            wanted[_row_match(row)] = match
        return
    if match is None:
        _cancel(session, row, now, "no longer wanted after a change")
        return
    if (row.due_at, row.idempotency_key) == (match.due_at, match.idempotency_key):
        return  # unchanged, even if its moment passed and the dispatcher is behind
    if match.due_at <= now:
        _cancel(session, row, now, "the change put its moment in the past")
        return
    previous = row.due_at
    row.due_at = row.available_at = match.due_at
    row.expires_at = match.expires_at
    row.idempotency_key = match.idempotency_key
    row.data = dict(match.data)
    row.language = match.language
    row.recipient_name = match.recipient_name
    row.updated_at = now
    session.add(
        NotificationEvent(
            **log_row(
                row.id, "moved", now, detail=f"{previous.isoformat()} -> {match.due_at.isoformat()}"
            )
        )
    )


def _row_match(row: Notification) -> tuple[str, str, str]:
    return planning.match_key(row.idempotency_key, row.channel, row.recipient)


def _cancel(session: Session, row: Notification, now: datetime, reason: str) -> None:
    row.status = CANCELLED
    row.updated_at = now
    session.add(NotificationEvent(**log_row(row.id, "cancelled", now, detail=reason)))
