"""Presence rows of a server that died (kill -9, power cut) are closed by the others.

A "crashed" server here is a lease that stops being renewed while its rows stay open:
exactly what a process killed without running a line of cleanup leaves behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from openvisit.clock import FixedClock
from openvisit.meetings import events, server_leases, visits, waiting
from openvisit.meetings.access import Entrant, check_join_link
from openvisit.meetings.server_leases import EXPIRES_AFTER, LeaseLost
from openvisit.runtime import Runtime
from openvisit.store.models import MeetingAttendance, MeetingParticipant, ServerInstance
from tests.meetings.test_visits import MORNING, Capture, consumer, staff
from tests.realtime.conftest import another_visit
from tests.visits import Visit, make_visit

SECOND = timedelta(seconds=1)
NINE = datetime.fromisoformat("2026-11-24T14:00:00+00:00")  # 09:00 in New York


@pytest.fixture
def day(runtime: Runtime, clock: FixedClock) -> Runtime:
    clock.advance(MORNING - clock.now())
    return runtime


@pytest.fixture
def visit(day: Runtime) -> Visit:
    return make_visit(day)


def _enter(day: Runtime, server: str, entrant: Entrant, connection_id: str) -> visits.Presence:
    return visits.enter(
        day.db, day.clock, Capture(), entrant, connection_id, server_instance_id=server
    )


def _nine_oclock(day: Runtime, visit: Visit) -> Entrant:
    """The consumer of Dr. Ann's 09:00, ahead of the 10:00 one in her queue."""
    token = another_visit(day, visit, NINE)
    return check_join_link(day.db, secret_key=day.secret_key, token=token, now=day.clock.now())


def _one_waiter_on_each(
    day: Runtime, visit: Visit
) -> tuple[tuple[str, visits.Presence], tuple[str, visits.Presence]]:
    """Two servers: the 10:00 consumer waits on the first, the 09:00 one on the second."""
    first = server_leases.register(day.db, day.clock)
    second = server_leases.register(day.db, day.clock)
    return (
        (first, _enter(day, first, consumer(day, visit), "c_first")),
        (second, _enter(day, second, _nine_oclock(day, visit), "c_second")),
    )


def _open_ends(day: Runtime, participant_id: str) -> list[datetime | None]:
    with day.db.read() as session:
        return list(
            session.scalars(
                select(MeetingAttendance.ended_at)
                .where(MeetingAttendance.participant_id == participant_id)
                .order_by(MeetingAttendance.id)
            )
        )


def _leases(day: Runtime) -> set[str]:
    with day.db.read() as session:
        return set(session.scalars(select(ServerInstance.id)))


def test_a_crashed_servers_rows_end_at_its_last_heartbeat_and_the_waiter_behind_moves_up(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    crashed = server_leases.register(day.db, clock)
    alive = server_leases.register(day.db, clock)
    ahead = _enter(day, crashed, _nine_oclock(day, visit), "c_ahead")
    provider = _enter(day, crashed, staff(day, visit), "c_staff")  # in the 10:00's call
    behind = _enter(day, alive, consumer(day, visit), "c_behind")
    ann = behind.staff_member_ids[0]
    assert waiting.queue_of(day.db, clock, ann)[behind.participant_id].position == 2
    clock.advance(20 * SECOND)
    assert server_leases.renew(day.db, clock, crashed)  # its last heartbeat: then kill -9
    last_heartbeat = clock.now()
    for _ in range(6):  # the live one goes on renewing; nobody is dead a second early
        clock.advance(server_leases.RENEW_EVERY)
        assert server_leases.renew(day.db, clock, alive)
        assert server_leases.reap(day.db, clock, Capture(), sweeper=alive) == 0
    clock.advance(EXPIRES_AFTER + last_heartbeat - clock.now() + SECOND)
    capture = Capture()

    assert server_leases.reap(day.db, clock, capture, sweeper=alive) == 2

    assert _open_ends(day, ahead.participant_id) == [last_heartbeat]
    assert _open_ends(day, provider.participant_id) == [last_heartbeat]
    assert _open_ends(day, behind.participant_id) == [None]  # the live server's: untouched
    assert _leases(day) == {alive}
    queue = waiting.queue_of(day.db, clock, ann)
    assert list(queue) == [behind.participant_id]
    assert queue[behind.participant_id].position == 1
    with day.db.read() as session:  # where they stand is kept, as after any drop
        assert session.get(MeetingParticipant, ahead.participant_id).state == "lobby"  # type: ignore[union-attr]
    # The call hears who left; both meetings' lobbies and Ann's queue and board recompute.
    left = events.ParticipantChanged(participant_id=provider.participant_id, event="left")
    assert (events.meeting_channel(visit.meeting_id), left) in capture.sent
    assert (events.staff_channel(ann), events.QueueChanged()) in capture.sent
    assert {channel for channel, event in capture.sent if event.kind == "queue"} == {
        events.meeting_channel(visit.meeting_id),
        events.meeting_channel(ahead.meeting_id),
        events.staff_channel(ann),
    }
    assert capture.kinds().count("participant") == 1  # a waiter gone is a queue change


def test_a_live_server_is_never_swept_nor_the_sweeper_itself(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    (sweeper, mine), (quiet, theirs) = _one_waiter_on_each(day, visit)
    clock.advance(EXPIRES_AFTER)  # quiet for exactly the expiry: still alive
    assert server_leases.reap(day.db, clock, Capture(), sweeper=sweeper) == 0
    clock.advance(SECOND)  # the sweeper's own lease is as old, and it is never its own ghost
    assert server_leases.reap(day.db, clock, Capture(), sweeper=quiet) == 1
    assert _open_ends(day, theirs.participant_id) == [None]
    assert _open_ends(day, mine.participant_id) == [clock.now() - EXPIRES_AFTER - SECOND]


def test_a_reaped_or_expired_server_opens_no_presence_rows_and_learns_it_at_its_renewal(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    paused = server_leases.register(day.db, clock)
    clock.advance(EXPIRES_AFTER + SECOND)  # expired, not yet swept
    with pytest.raises(LeaseLost):
        _enter(day, paused, consumer(day, visit), "c_1")
    sweeper = server_leases.register(day.db, clock)
    server_leases.reap(day.db, clock, Capture(), sweeper=sweeper)
    with pytest.raises(LeaseLost):  # gone
        _enter(day, paused, consumer(day, visit), "c_2")
    with day.db.read() as session:
        assert session.scalar(select(func.count()).select_from(MeetingAttendance)) == 0
    assert not server_leases.renew(day.db, clock, paused)  # so it starts over as a new one


def test_a_row_opened_after_the_last_heartbeat_ends_where_it_began(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    """A server whose clock runs a little ahead of the database's last heartbeat: no
    stretch ever ends before it started."""
    crashed = server_leases.register(day.db, clock)
    clock.advance(5 * SECOND)
    me = _enter(day, crashed, consumer(day, visit), "c_1")  # the last heartbeat was earlier
    entered = clock.now()
    clock.advance(EXPIRES_AFTER)
    sweeper = server_leases.register(day.db, clock)
    assert server_leases.reap(day.db, clock, Capture(), sweeper=sweeper) == 1
    assert _open_ends(day, me.participant_id) == [entered]


def test_a_clean_stop_closes_what_the_server_still_holds_now_and_drops_its_lease(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    (stopping, me), (other, theirs) = _one_waiter_on_each(day, visit)
    clock.advance(3 * SECOND)
    capture = Capture()
    assert server_leases.retire(day.db, clock, capture, stopping) == 1
    assert _open_ends(day, me.participant_id) == [clock.now()]
    assert _open_ends(day, theirs.participant_id) == [None]
    assert _leases(day) == {other}
    assert (events.staff_channel(me.staff_member_ids[0]), events.QueueChanged()) in capture.sent


def test_an_admitted_waiters_call_stays_with_the_server_holding_their_connection(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    crashed = server_leases.register(day.db, clock)
    alive = server_leases.register(day.db, clock)
    waiter = _enter(day, crashed, consumer(day, visit), "c_waiter")
    _enter(day, alive, staff(day, visit), "c_staff")  # the provider, on another process
    clock.advance(2 * SECOND)
    visits.admit(day.db, clock, Capture(), visit.provider, waiter.participant_id)
    admitted = clock.now()
    clock.advance(3 * SECOND)
    assert server_leases.renew(day.db, clock, crashed)
    last_heartbeat = clock.now()
    clock.advance(EXPIRES_AFTER + SECOND)
    assert server_leases.renew(day.db, clock, alive)
    assert server_leases.reap(day.db, clock, Capture(), sweeper=alive) == 1
    # The lobby stretch ended at the admission; the call stretch the admission opened for
    # the same connection is the crashed server's too, and ends at its last heartbeat.
    assert _open_ends(day, waiter.participant_id) == [admitted, last_heartbeat]
