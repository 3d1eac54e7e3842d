"""Two edits of one appointment at once both survive on PostgreSQL (the row lock).

Each edit reads the appointment, lays its change over it and writes the whole back. The
gate wraps that merge: the first edit to reach it waits briefly for a second one. With
the row lock the second edit cannot read until the first commits, so the gate is never
met and it reads the first's result. The control twin turns the lock off through the
test-only guard: both edits read the same old row, and the second write undoes the first.
SQLite serializes whole write transactions, so the race cannot arise there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from openvisit.bookings.appointments import AppointmentChanges, get_appointment, update
from openvisit.runtime import Runtime
from tests.bookings.clinic import CONSUMER, book_at, make_clinic
from tests.concurrency.race import CheckGate, guard_disabled, run_together
from tests.conftest import build_test_runtime
from tests.databases import PostgresDatabase, requested_backends

# The package re-exports the function `reschedule`, which hides the module of that name.
reschedule_module = importlib.import_module("openvisit.bookings.appointments.reschedule")

pytestmark = pytest.mark.parametrize(
    "backend", [name for name in requested_backends() if name == "postgresql"]
)

EDITS = (
    AppointmentChanges(details={"serviceNotes": "bring your insurance card"}),
    AppointmentChanges(details={"additionalInformation": "wheelchair access"}),
)


@pytest.fixture
def pg_runtime(backend: str, postgres_database: PostgresDatabase, clock: Any) -> Iterator[Runtime]:
    with postgres_database.database() as database:
        yield build_test_runtime(database, clock)


class MergeGate(CheckGate):
    """CheckGate around `merged(appointment, changes)`, which takes no session."""

    def __init__(self, merge: Callable[..., Any]) -> None:
        super().__init__(merge)
        self._merge = merge

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self._merge(*args, **kwargs)
        with self._lock:
            if self._closed:
                return result
            if self._waiting:
                self._second.set()
                return result
            self._waiting = True
        self._second.wait(self._patience)
        with self._lock:
            self._closed = True
        return result


def edit_at_once(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], bool]:
    clinic = make_clinic(runtime)
    booked = book_at(runtime, clinic)
    gate = MergeGate(reschedule_module.merged)
    monkeypatch.setattr(reschedule_module, "merged", gate)

    def edit(changes: AppointmentChanges) -> Callable[[], object]:
        return lambda: update(
            runtime.db, runtime.clock, clinic["business"], booked.id, changes, authority=CONSUMER
        )

    run_together(*(edit(changes) for changes in EDITS))
    stored = get_appointment(runtime.db, clinic["business"], booked.id)
    return dict(stored.details), gate.met


def test_both_edits_survive(pg_runtime, monkeypatch):
    details, met = edit_at_once(pg_runtime, monkeypatch)
    assert not met  # the second edit never read while the first was open
    assert details["serviceNotes"] == "bring your insurance card"
    assert details["additionalInformation"] == "wheelchair access"


def test_without_the_row_lock_one_edit_is_lost(pg_runtime, monkeypatch):
    with guard_disabled():
        details, met = edit_at_once(pg_runtime, monkeypatch)
    assert met
    kept = [details.get("serviceNotes"), details.get("additionalInformation")]
    assert kept.count(None) == 1, details
