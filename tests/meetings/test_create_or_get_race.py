"""Two createOrGet calls for one externalId at once make one meeting.

A gate holds the race window open: the first call's look-up waits for the second's, so
both find nothing and both insert. The unique constraint (organizer, externalId) lets
one insert through; the other is refused inside its transaction, reads the winner's
meeting and answers it as found. `met` proves the two look-ups really overlapped, so the
outcome is not luck of timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from openvisit.meetings import online_meetings
from openvisit.meetings.online_meetings import MeetingChanges
from openvisit.meetings.views import MeetingView
from openvisit.runtime import Runtime
from openvisit.store.models import OnlineMeeting
from tests.meetings.helpers import make_user

PATIENCE_SECONDS = 2.0


class LookupGate:
    def __init__(self, lookup: Callable[..., MeetingView | None]) -> None:
        self.lookup = lookup
        self.arrived = threading.Semaphore(0)
        self.calls = 0
        self.lock = threading.Lock()
        self.met = False

    def __call__(self, *args: Any) -> MeetingView | None:
        found = self.lookup(*args)
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            self.met = self.arrived.acquire(timeout=PATIENCE_SECONDS)
        else:
            self.arrived.release()
        return found


def test_concurrent_create_or_get_makes_one_meeting(runtime: Runtime, monkeypatch):
    osei = make_user(runtime)
    gate = LookupGate(online_meetings._by_external_id)
    monkeypatch.setattr(online_meetings, "_by_external_id", gate)
    results: list[tuple[MeetingView, bool]] = []

    def call() -> None:
        results.append(
            online_meetings.create_or_get(
                runtime.db,
                runtime.clock,
                osei.id,
                "crm-1",
                MeetingChanges(subject="Intake"),
                actor="test",
            )
        )

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert gate.met, "the two look-ups did not overlap: the race was not exercised"
    assert len(results) == 2
    assert {meeting.id for meeting, _made in results} == {results[0][0].id}
    assert sorted(made for _meeting, made in results) == [False, True]
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(OnlineMeeting)) == 1
