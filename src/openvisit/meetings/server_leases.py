"""Server leases: presence rows left open by a server process that died are closed.

Every open MeetingAttendance row (a connection there now) names the server process that
holds its connection. Each process keeps a lease (`server_instances`): registered when
its real-time hub starts, its `heartbeat_at` renewed every RENEW_EVERY, deleted when it
stops cleanly (closing whatever it still held). A process killed or without power
renews nothing, and once its heartbeat is EXPIRES_AFTER old any other process's sweep
(`reap`) closes its rows at that heartbeat, the last moment it is known to have been
alive, not at the time of the sweep, and tells the lobbies and boards.

The lease is also a fence: `enter` opens a row only under a lease that has not expired
(`check_lease`), holding it against a concurrent sweep, so a process that was paused or
cut off for longer than the expiry, and so reaped, cannot write rows nobody will close.
It finds out at its next renewal (`renew` answers False) and starts over as a new one.

All times are the injected clock's; the processes' clocks must agree to within a few
seconds (one NTP source), well inside EXPIRES_AFTER.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from openvisit.clock import Clock
from openvisit.meetings import events
from openvisit.meetings.publishing import Publish, publish_on_commit
from openvisit.store.db import Database
from openvisit.store.models import Appointment, MeetingAttendance, OnlineMeeting, ServerInstance

logger = logging.getLogger(__name__)

RENEW_EVERY = timedelta(seconds=10)
# Six renewals may fail (a slow database, a failover) before the others take a process
# for dead; a ghost then shows for at most this long plus one sweep interval.
EXPIRES_AFTER = timedelta(seconds=60)


class LeaseLost(Exception):
    """This process's lease expired or was reaped: it may hold no presence any more."""


@dataclass(frozen=True, slots=True)
class _Closed:
    meeting_id: str
    participant_id: str
    kind: str


def new_server_instance_id() -> str:
    """host:pid:random, unique per process start and readable in the rows it writes."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def register(db: Database, clock: Clock) -> str:
    """A new lease for this process, alive from now; returns its id."""
    server_instance_id = new_server_instance_id()
    now = clock.now()
    with db.write() as session:
        session.add(ServerInstance(id=server_instance_id, started_at=now, heartbeat_at=now))
    return server_instance_id


def renew(db: Database, clock: Clock, server_instance_id: str) -> bool:
    """Say this process is alive now; False when its lease is gone (it was reaped)."""
    with db.write() as session:
        renewed = session.execute(
            update(ServerInstance)
            .where(ServerInstance.id == server_instance_id)
            .values(heartbeat_at=clock.now())
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult
    return bool(renewed)


def retire(db: Database, clock: Clock, publish: Publish, server_instance_id: str) -> int:
    """A clean stop: close what this process still holds, now, and drop its lease."""
    with db.write() as session:
        closed = _close_rows_of(session, server_instance_id, last_alive=clock.now())
        session.execute(delete(ServerInstance).where(ServerInstance.id == server_instance_id))
        _announce(session, publish, closed)
    return len(closed)


def check_lease(session: Session, server_instance_id: str, now: datetime) -> None:
    """Raise LeaseLost unless the lease is alive; called in the transaction that opens a
    presence row, which then holds the lease against a sweep until it commits."""
    heartbeat_at = session.scalar(
        select(ServerInstance.heartbeat_at)
        .where(ServerInstance.id == server_instance_id)
        # FOR KEY SHARE on PostgreSQL: a sweep's FOR UPDATE waits for (or skips) us, while
        # renewals and other entries through the same lease do not wait at all. SQLite
        # serializes writers anyway.
        .with_for_update(read=True, key_share=True)
    )
    if heartbeat_at is None or heartbeat_at < now - EXPIRES_AFTER:
        raise LeaseLost(server_instance_id)


def reap(db: Database, clock: Clock, publish: Publish, *, sweeper: str) -> int:
    """Close the presence rows of every server whose lease expired, at its last
    heartbeat, and drop those leases; `sweeper` (the caller, alive) is never one.
    Returns how many rows were closed."""
    now = clock.now()
    expired = (ServerInstance.heartbeat_at < now - EXPIRES_AFTER) & (ServerInstance.id != sweeper)
    # Nearly always nothing is dead: a plain read, so an idle sweep never takes
    # SQLite's write lock.
    with db.read() as session:
        if not session.scalar(select(exists().where(expired))):
            return 0
    with db.write() as session:
        dead = session.execute(
            select(ServerInstance.id, ServerInstance.heartbeat_at)
            .where(expired)
            # Two sweepers split the dead between them; an entry holding a lease (about
            # to find it expired) keeps it until the next sweep.
            .with_for_update(skip_locked=True)
        ).all()
        closed: list[_Closed] = []
        for server_instance_id, last_alive in dead:
            rows = _close_rows_of(session, server_instance_id, last_alive)
            logger.warning(
                "server %s stopped renewing its lease at %s: closed %d presence rows",
                server_instance_id,
                last_alive.isoformat(),
                len(rows),
            )
            closed += rows
        session.execute(delete(ServerInstance).where(ServerInstance.id.in_([d[0] for d in dead])))
        _announce(session, publish, closed)
    return len(closed)


def _close_rows_of(
    session: Session, server_instance_id: str, last_alive: datetime
) -> list[_Closed]:
    """End the open rows of one server at `last_alive`, or at their start for a row
    opened after it (a clock a little ahead), never before it began."""
    held = (MeetingAttendance.server_instance_id == server_instance_id) & (
        MeetingAttendance.ended_at.is_(None)
    )
    closed = [
        _Closed(*row)
        for row in session.execute(
            select(
                MeetingAttendance.meeting_id,
                MeetingAttendance.participant_id,
                MeetingAttendance.kind,
            ).where(held)
        )
    ]
    if closed:
        session.execute(
            update(MeetingAttendance)
            .where(held, MeetingAttendance.started_at <= last_alive)
            .values(ended_at=last_alive)
        )
        session.execute(
            update(MeetingAttendance).where(held).values(ended_at=MeetingAttendance.started_at)
        )
    return closed


def _announce(session: Session, publish: Publish, closed: Sequence[_Closed]) -> None:
    """What a leave publishes, once per meeting: the call members hear who left, and the
    meeting's lobby and its providers' queues and boards are recomputed."""
    by_meeting: dict[str, list[_Closed]] = {}
    for row in closed:
        by_meeting.setdefault(row.meeting_id, []).append(row)
    staff = _providers(session, by_meeting)
    for meeting_id, rows in by_meeting.items():
        # Only call members are told one by one: a waiter who is gone is a change of
        # queue, and a crashed server with thousands of waiters must not cost every
        # other process a read per waiter.
        left = dict.fromkeys(r.participant_id for r in rows if r.kind == "call")
        publish_on_commit(
            session,
            publish,
            meeting_id,
            *(events.ParticipantChanged(participant_id=p, event="left") for p in left),
            queue_of=staff.get(meeting_id, ()),
        )


def _providers(session: Session, meeting_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each meeting's appointment's staff members: whose queues and boards show it."""
    rows = session.execute(
        select(OnlineMeeting.id, Appointment.staff_member_ids)
        .join(Appointment, Appointment.id == OnlineMeeting.appointment_id)
        .where(OnlineMeeting.id.in_(list(meeting_ids)))
    )
    return {meeting_id: tuple(staff or ()) for meeting_id, staff in rows}
