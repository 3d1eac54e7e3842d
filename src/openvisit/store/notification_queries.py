"""The named queries of notification delivery: the probe, the claim, outcomes, the log.

The claim reads "open (pending, or sending with a lapsed lease) and available now",
oldest first, through `ix_notifications_claim` (status, available_at): only open rows
are visited, so years of sent messages cost nothing (tests/notify/test_query_plans.py).
The two statuses are two ranges of the index, merged in a small sort of the rows due now.

On PostgreSQL the claim locks its rows `FOR UPDATE SKIP LOCKED`: workers claiming at
the same moment each take rows the others did not, and a row another worker has just
claimed fails the re-check of the WHERE clause (its `available_at` is now its lease's
end). On SQLite the claim runs in the ordinary write transaction (BEGIN IMMEDIATE),
which serializes claims; `any_due` is a plain read first, so an idle poll never waits
for, or holds, the write lock.

Every outcome is fenced: it is written only while the row is still `sending` under this
worker's claim (`claimed_by` and `attempts` as they were claimed). A worker whose lease
ran out and whose row was claimed again writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from openvisit.store.models import Notification, NotificationEvent, table_of

# The row states of notify/queue.py that delivery writes (the store cannot import the
# service layer; tests/notify/test_query_plans.py keeps the two equal).
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
DROPPED = "dropped"
OPEN_STATES = (PENDING, SENDING)

_NOTIFICATIONS = table_of(Notification)
_OPEN = (Notification.status.in_(OPEN_STATES), Notification.available_at <= bindparam("now"))
_ANY_DUE = select(Notification.id).where(*_OPEN).limit(1)
_DUE = (
    select(
        Notification.id,
        Notification.status,
        Notification.attempts,
        Notification.claimed_by,
        Notification.expires_at,
        Notification.channel,
        Notification.kind,
    )
    .where(*_OPEN)
    .order_by(Notification.available_at)
    .limit(bindparam("batch"))
)
_DUE_LOCKED = _DUE.with_for_update(skip_locked=True)
_CLAIM = (
    update(_NOTIFICATIONS)
    .where(_NOTIFICATIONS.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=SENDING,
        claimed_by=bindparam("worker"),
        attempts=_NOTIFICATIONS.c.attempts + 1,
        lease_expires_at=bindparam("lease_until"),
        # Past the lease the row is "available now" again: a dead worker's claim lapses.
        available_at=bindparam("lease_until"),
        updated_at=bindparam("now"),
    )
)
_CLOSE_UNCLAIMED = (
    update(_NOTIFICATIONS)
    .where(_NOTIFICATIONS.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=bindparam("status"),
        claimed_by=None,
        lease_expires_at=None,
        updated_at=bindparam("now"),
        last_error=bindparam("reason"),
    )
)
_EVENTS = insert(table_of(NotificationEvent))


@dataclass(frozen=True, slots=True)
class Due:
    """A row the claim found, as it was before this claim."""

    id: str
    status: str
    attempts: int
    claimed_by: str | None
    expires_at: datetime | None
    channel: str
    kind: str


@dataclass(frozen=True, slots=True)
class Fence:
    """This worker's claim of one row: its outcome is written only while it still holds."""

    id: str
    worker: str
    attempts: int


def any_due(session: Session, now: datetime) -> bool:
    """Whether some row may be claimed at `now`: one index probe, no lock."""
    return session.execute(_ANY_DUE, {"now": now}).first() is not None


def due(session: Session, now: datetime, batch: int) -> list[Due]:
    """Up to `batch` open rows available at `now`, oldest first; locked on PostgreSQL.

    Call inside a write transaction: the rows returned are this transaction's to claim.
    """
    statement = _DUE if session.get_bind().dialect.name == "sqlite" else _DUE_LOCKED
    rows = session.execute(statement, {"now": now, "batch": batch}).all()
    return [Due(*row) for row in rows]


def claim(
    session: Session, rows: Sequence[Due], *, worker: str, now: datetime, lease_until: datetime
) -> list[Fence]:
    """Make `rows` this worker's until `lease_until`; each claim is one more attempt."""
    if not rows:
        return []
    session.execute(
        _CLAIM,
        {"ids": [row.id for row in rows], "worker": worker, "lease_until": lease_until, "now": now},
    )
    return [Fence(row.id, worker, row.attempts + 1) for row in rows]


def close_unclaimed(
    session: Session, ids: Sequence[str], *, status: str, now: datetime, reason: str
) -> None:
    """End rows the claim found but will not send (expired, or out of attempts)."""
    if ids:
        session.execute(
            _CLOSE_UNCLAIMED, {"ids": list(ids), "status": status, "now": now, "reason": reason}
        )


def _fenced(**values: Any) -> Any:
    """An UPDATE of one row that matches only while this worker's claim holds."""
    return (
        update(_NOTIFICATIONS)
        .where(
            _NOTIFICATIONS.c.id == bindparam("fence_id"),
            _NOTIFICATIONS.c.status == SENDING,
            _NOTIFICATIONS.c.claimed_by == bindparam("fence_worker"),
            _NOTIFICATIONS.c.attempts == bindparam("fence_attempts"),
        )
        .values(updated_at=bindparam("at"), claimed_by=None, lease_expires_at=None, **values)
    )


_SENT = _fenced(
    status=SENT, sent_at=bindparam("at"), provider_id=bindparam("provider"), last_error=None
)
_RETRY = _fenced(status=PENDING, available_at=bindparam("retry_at"), last_error=bindparam("reason"))
_RELEASE = _fenced(
    status=PENDING, available_at=bindparam("at"), attempts=_NOTIFICATIONS.c.attempts - 1
)
_FAILED = _fenced(status=FAILED, last_error=bindparam("reason"))


def _settle(session: Session, statement: Any, fence: Fence, now: datetime, **values: Any) -> bool:
    parameters = {
        "fence_id": fence.id,
        "fence_worker": fence.worker,
        "fence_attempts": fence.attempts,
        "at": now,
        **values,
    }
    return bool(session.execute(statement, parameters).rowcount == 1)  # type: ignore[attr-defined]


def sent(session: Session, fence: Fence, now: datetime, provider_id: str | None) -> bool:
    """Record the provider's acceptance; False when the claim no longer holds."""
    return _settle(session, _SENT, fence, now, provider=provider_id)


def retry(session: Session, fence: Fence, now: datetime, at: datetime, reason: str) -> bool:
    """Back to pending, available again at `at` (the backoff); the attempt is counted."""
    return _settle(session, _RETRY, fence, now, retry_at=at, reason=reason)


def release(session: Session, fence: Fence, now: datetime) -> bool:
    """Hand a claimed row back unsent (the worker is stopping): no attempt was made."""
    return _settle(session, _RELEASE, fence, now)


def failed(session: Session, fence: Fence, now: datetime, reason: str) -> bool:
    return _settle(session, _FAILED, fence, now, reason=reason)


def hold_loaded(session: Session) -> list[object]:
    """Keep every row `session` loads alive while the returned list lives.

    The identity map holds rows weakly, so composing a batch read the same appointment
    and business once per message; held, the map answers the repeats without a query.
    """
    kept: list[object] = []
    event.listen(session, "loaded_as_persistent", lambda _session, row: kept.append(row))
    return kept


def add_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Append rows to the delivery log (notify/queue.py's log_row builds them)."""
    if events:
        session.execute(_EVENTS, list(events))


def claimed_rows(session: Session, ids: Sequence[str]) -> dict[str, Notification]:
    """The claimed rows by id, whole, for composing their messages."""
    if not ids:
        return {}
    rows = session.scalars(select(Notification).where(Notification.id.in_(ids))).all()
    return {row.id: row for row in rows}


def appointment_log(
    session: Session, appointment_id: str
) -> tuple[Sequence[Notification], Sequence[NotificationEvent]]:
    """An appointment's notifications by due time, and all their log rows in order."""
    return _log(session, Notification.appointment_id == appointment_id)


def meeting_log(
    session: Session, meeting_id: str
) -> tuple[Sequence[Notification], Sequence[NotificationEvent]]:
    """An online meeting's texts (meetings/sms.py) by due time, and their log rows."""
    return _log(session, Notification.meeting_id == meeting_id)


def _log(
    session: Session, owned_by: ColumnElement[bool]
) -> tuple[Sequence[Notification], Sequence[NotificationEvent]]:
    notifications = session.scalars(
        select(Notification)
        .where(owned_by)
        .order_by(Notification.due_at, Notification.kind, Notification.id)
    ).all()
    events = session.scalars(
        select(NotificationEvent)
        .where(NotificationEvent.notification_id.in_([row.id for row in notifications]))
        .order_by(NotificationEvent.id)
    ).all()
    return notifications, events
