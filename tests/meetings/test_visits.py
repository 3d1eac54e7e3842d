"""The visit service on its own: stretches, sittings, chat idempotency, real-length waits.

Every event it publishes must decode as a meetings/events.py model (the capture below
decodes each one), and none is published for a write that rolled back.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from openvisit.clock import FixedClock
from openvisit.meetings import events, visits, waiting
from openvisit.meetings.access import Entrant, check_join_link, check_staff_access
from openvisit.meetings.visits import VisitRefused
from openvisit.runtime import Runtime
from openvisit.store.models import MeetingAttendance, MeetingSession
from tests.realtime.conftest import another_visit
from tests.visits import Visit, enter, make_visit

MORNING = datetime.fromisoformat("2026-11-24T12:00:00+00:00")
MIN = timedelta(minutes=1)


class Capture:
    def __init__(self) -> None:
        self.sent: list[tuple[str, events.Event]] = []

    def __call__(self, channel: str, payload: str) -> None:
        self.sent.append((channel, events.decode(payload)))

    def kinds(self) -> list[str]:
        return [event.kind for _channel, event in self.sent]


@pytest.fixture
def day(runtime: Runtime, clock: FixedClock) -> Runtime:
    clock.advance(MORNING - clock.now())
    return dataclasses.replace(runtime, session_max_age_seconds=24 * 3600)


@pytest.fixture
def visit(day: Runtime) -> Visit:
    return make_visit(day)


def consumer(runtime: Runtime, visit: Visit) -> Entrant:
    return check_join_link(
        runtime.db,
        secret_key=runtime.secret_key,
        token=visit.consumer_token,
        now=runtime.clock.now(),
    )


def staff(runtime: Runtime, visit: Visit) -> Entrant:
    return check_staff_access(runtime.db, user=visit.provider, meeting_id=visit.meeting_id)


def stretches(runtime: Runtime) -> list[tuple[str, str, datetime, datetime | None]]:
    with runtime.db.read() as session:
        rows = session.execute(
            select(
                MeetingAttendance.kind,
                MeetingAttendance.connection_id,
                MeetingAttendance.started_at,
                MeetingAttendance.ended_at,
            ).order_by(MeetingAttendance.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_reconnect_closes_the_stretch_its_dropped_predecessor_left_open(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    capture = Capture()
    start = clock.now()
    enter(day, capture, consumer(day, visit), "c1")
    clock.advance(2 * MIN)  # c1 dropped without a word; c2 comes
    again = enter(day, capture, consumer(day, visit), "c2")
    visits.leave(day.db, clock, capture, dataclasses.replace(again, connection_id="c1"))
    assert stretches(day) == [
        ("lobby", "c1", start, start + 2 * MIN),
        ("lobby", "c2", start + 2 * MIN, None),
    ]
    assert capture.kinds().count("participant") == 2  # joined twice; the stale leave is silent
    assert ("meeting:" + visit.meeting_id, events.Replaced(participant_id=again.participant_id,
            connection_id="c2")) in capture.sent  # fmt: skip


def test_the_first_call_join_starts_the_sitting_and_the_end_ends_it(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    capture = Capture()
    start = clock.now()
    waiter = enter(day, capture, consumer(day, visit), "c1")
    clock.advance(5 * MIN)
    enter(day, capture, staff(day, visit), "s1")
    visits.admit(day.db, clock, capture, visit.provider, waiter.participant_id)
    clock.advance(15 * MIN)
    visits.end(day.db, clock, capture, visit.provider, visit.meeting_id)
    with day.db.read() as session:
        assert session.execute(
            select(MeetingSession.started_at, MeetingSession.ended_at)
        ).all() == [(start + 5 * MIN, start + 20 * MIN)]
    assert [row[0] for row in stretches(day)] == ["lobby", "call", "call"]
    assert all(row[3] == start + 20 * MIN or row[0] == "lobby" for row in stretches(day))
    with pytest.raises(VisitRefused) as refused:
        visits.end(day.db, clock, capture, visit.provider, visit.meeting_id)
    assert refused.value.code == "alreadyEnded"
    # Over until the provider comes back; then whoever returns waits to be admitted again.
    assert enter(day, capture, consumer(day, visit), "c8").place == "ended"
    assert enter(day, capture, staff(day, visit), "s2").place == "call"
    assert enter(day, capture, consumer(day, visit), "c9").place == "lobby"


def test_chat_is_stored_once_per_client_message_id(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    capture = Capture()
    me = enter(day, capture, consumer(day, visit), "c1")
    first = visits.send_chat(day.db, clock, capture, me, "hello", "m1")
    again = visits.send_chat(day.db, clock, capture, me, "hello", "m1")
    assert (again.chat_id, again.duplicate, first.duplicate) == (first.chat_id, True, False)
    meeting = events.meeting_channel(visit.meeting_id)
    chats = [channel for channel, event in capture.sent if event.kind == "chat"]
    assert chats == [meeting, events.staff_channel(visit.clinic["ann"])]  # and Ann's board
    assert first.message["audience"] == "lobby"
    for text in ("", "   ", "x" * 2001):
        with pytest.raises(VisitRefused):
            visits.send_chat(day.db, clock, capture, me, text, f"bad-{len(text)}")


def test_denied_stays_denied_and_admitting_who_does_not_wait_is_refused(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    capture = Capture()
    me = enter(day, capture, consumer(day, visit), "c1")
    visits.deny(day.db, clock, capture, visit.provider, me.participant_id, "Wrong day")
    assert events.Denied(participant_id=me.participant_id, message="Wrong day") in [
        event for _channel, event in capture.sent
    ]
    with pytest.raises(VisitRefused) as refused:
        visits.admit(day.db, clock, capture, visit.provider, me.participant_id)
    assert refused.value.code == "notWaiting"
    assert enter(day, capture, consumer(day, visit), "c2").place == "denied"
    with pytest.raises(VisitRefused):
        visits.admit(day.db, clock, capture, visit.provider, "no-such-participant")


def test_the_estimate_uses_the_real_length_of_finished_calls(
    day: Runtime, visit: Visit, clock: FixedClock
) -> None:
    """A finished 12-minute call of the same service with Dr. Ann, not the scheduled 30,
    is what the call in progress is expected to take."""
    nine = datetime.fromisoformat("2026-11-24T14:00:00+00:00")  # 09:00 in New York
    early = another_visit(day, visit, nine)
    clock.advance(nine + 30 * MIN - clock.now())
    capture = Capture()
    first = enter(day, capture, consumer(day, visit), "c1")
    enter(day, capture, staff(day, visit), "s1")
    visits.admit(day.db, clock, capture, visit.provider, first.participant_id)
    clock.advance(12 * MIN)
    visits.end(day.db, clock, capture, visit.provider, visit.meeting_id)
    with day.db.read() as session:
        recent = waiting.recent_call_lengths(session, visit.clinic["visit"], visit.clinic["ann"])
    assert recent == [12 * MIN]

    enter(day, capture, staff(day, visit), "s2")  # the 10:00 again, early
    again = enter(day, capture, consumer(day, visit), "c2")
    visits.admit(day.db, clock, capture, visit.provider, again.participant_id)
    clock.advance(2 * MIN)
    entrant = check_join_link(day.db, secret_key=day.secret_key, token=early, now=clock.now())
    waiter = enter(day, capture, entrant, "c3")
    lobby = waiting.queue_of(day.db, clock, waiter.staff_member_ids[0]).get(waiter.participant_id)
    assert lobby is not None
    # The 09:00 patient is late, so only the call in progress stands before them:
    # 12 expected minutes, 2 of them gone. The provider is busy in another visit's call.
    assert (lobby.position, lobby.estimated_wait_seconds) == (1, 10 * 60)
    assert lobby.provider["state"] == "inCall"
