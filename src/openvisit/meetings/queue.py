"""A provider's waiting-room queue: who is next, and how long each waiter should expect.

Pure: the caller (meetings/waiting.py) reads the inputs from the database. The queue is
the consumers and guests waiting now for one staff member's meetings of the day, ordered
by appointment start, then by arrival in the lobby (someone early for 10:30 does not go
before the 10:00 patient who is late). A waiter's estimate is the sum of

- the provider's "running late" minutes,
- what is left of the call in progress (its expected length minus its time so far, but
  at least MINIMUM_REMAINING: a call past its expected length is about to end, not over),
- the expected length of every call ahead of them in the queue,

and never earlier than their own appointment's start: nobody is seen before their time
(so a waiter early for a later slot also pushes back the ones behind them).
A call's expected length is the average of the recent finished calls of that service with
that provider (real durations), else the appointment's scheduled length.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MINIMUM_REMAINING = timedelta(minutes=1)
# How many of the latest finished calls make the average: recent enough to follow a
# provider's pace today, enough not to swing on one short call.
RECENT_CALLS = 10


@dataclass(frozen=True, slots=True)
class Waiter:
    participant_id: str
    meeting_id: str
    appointment_start: datetime
    lobby_entered_at: datetime
    expected: timedelta  # how long their call should take (see expected_length)


@dataclass(frozen=True, slots=True)
class CallInProgress:
    started_at: datetime
    expected: timedelta


@dataclass(frozen=True, slots=True)
class Place:
    position: int  # 1 is next
    estimated_wait_seconds: int


def expected_length(recent: Sequence[timedelta], scheduled: timedelta) -> timedelta:
    """The average of the recent finished call lengths, else the scheduled length."""
    lengths = [length for length in recent[:RECENT_CALLS] if length > timedelta(0)]
    if not lengths:
        return scheduled
    return sum(lengths, timedelta(0)) / len(lengths)


def ordered(waiters: Iterable[Waiter]) -> list[Waiter]:
    return sorted(
        waiters, key=lambda w: (w.appointment_start, w.lobby_entered_at, w.participant_id)
    )


def remaining(call: CallInProgress | None, now: datetime) -> timedelta:
    if call is None:
        return timedelta(0)
    return max(call.expected - (now - call.started_at), MINIMUM_REMAINING)


def places(
    waiters: Iterable[Waiter],
    *,
    now: datetime,
    in_progress: CallInProgress | None = None,
    late_minutes: int | None = None,
) -> Mapping[str, Place]:
    """Every waiter's place, by participant id."""
    queue = ordered(waiters)
    ahead = timedelta(minutes=late_minutes or 0) + remaining(in_progress, now)
    result: dict[str, Place] = {}
    for position, waiter in enumerate(queue, start=1):
        # Their call starts when the calls ahead are done, but not before their time.
        wait = max(ahead, waiter.appointment_start - now, timedelta(0))
        result[waiter.participant_id] = Place(position, round(wait.total_seconds()))
        ahead = wait + waiter.expected
    return result
