"""Fifty concurrent bookings of the same time through the real HTTP server.

With the guard (advisory locks on PostgreSQL, BEGIN IMMEDIATE on SQLite) exactly the free
seats are booked and every other request is a clean 409 `conflict`. Each scenario has a
control twin in `TestWithoutTheGuard` that switches the guard off through the test-only
switch and shows what happens then (STYLE.md §3.3).

Both run the same burst with the same `CheckGate` holding the race window open: the first
transaction to read the staff's bookings waits for a second one to read them as well
before it writes. The guard keeps that second read out until the first transaction has
committed, so the gate is never met; without the guard it is met at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from openvisit.bookings.appointments import staffing
from openvisit.runtime import Runtime
from openvisit.store import booking_queries
from tests.bookings.clinic import TUESDAY_10, Clinic, book_at, make_clinic
from tests.concurrency.race import (
    REQUESTS,
    Burst,
    CheckGate,
    fire,
    guard_disabled,
    seats_taken,
)
from tests.conftest import TokenFactory
from tests.databases import requested_backends
from tests.factories import BUSINESSES
from tests.live import serve

pytestmark = pytest.mark.live


@dataclass(frozen=True)
class Scenario:
    name: str
    service: str  # "visit" (one-on-one) or "group" (capacity 3), from tests/bookings/clinic
    staff: tuple[str, ...]  # asked for by name; () lets the server pick a free one
    seated: int  # seats of this sitting booked before the burst
    full: dict[str, int]  # seats per staff member once the time is fully booked

    @property
    def winners(self) -> int:
        return sum(self.full.values()) - self.seated


SCENARIOS = [
    Scenario("named-staff", "visit", ("ann",), 0, {"ann": 1}),
    Scenario("any-staff", "visit", (), 0, {"ann": 1, "bob": 1}),
    Scenario("last-group-seat", "group", ("ann",), 2, {"ann": 3}),
]


def scenarios() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("scenario", SCENARIOS, ids=[item.name for item in SCENARIOS])


@dataclass
class Race:
    clinic: Clinic = field(repr=False)
    gate: CheckGate

    def seats(self, runtime: Runtime) -> dict[str, int]:
        """Seats taken at the contested time, by staff name."""
        names = {self.clinic[name]: name for name in ("ann", "bob")}
        return {names[staff]: n for staff, n in seats_taken(runtime.db, TUESDAY_10).items()}


@pytest.fixture
def race(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, scenario: Scenario) -> Iterator[Race]:
    clinic = make_clinic(runtime)
    for _ in range(scenario.seated):
        book_at(runtime, clinic, service=scenario.service, customers=({"name": "Earlier"},))
    gate = CheckGate(booking_queries.staff_bookings)
    monkeypatch.setattr(staffing, "staff_bookings", gate)
    yield Race(clinic, gate)


def run(app: FastAPI, token: str, race: Race, scenario: Scenario) -> Burst:
    clinic = race.clinic
    path = f"{BUSINESSES}/{clinic['business']}/appointments"
    body: dict[str, Any] = {
        "serviceId": clinic[scenario.service],
        "startDateTime": {"dateTime": TUESDAY_10.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "customers": [{"name": "Jordan Lee"}],
    }
    if scenario.staff:
        body["staffMemberIds"] = [clinic[name] for name in scenario.staff]
    with serve(app) as base_url:
        # A token's first use records when it was used (a write); the test clock stands
        # still, so after this call the burst's only writes are the bookings themselves.
        headers = {"Authorization": f"Bearer {token}"}
        httpx.get(base_url + path, headers=headers, timeout=10).raise_for_status()
        return fire(base_url, path, body, token)


@scenarios()
def test_the_guard_books_exactly_the_free_seats(
    app: FastAPI, runtime: Runtime, make_token: TokenFactory, race: Race, scenario: Scenario
) -> None:
    burst = run(app, make_token(), race, scenario)

    losers = REQUESTS - scenario.winners
    assert burst.statuses == Counter({201: scenario.winners, 409: losers}), burst
    assert burst.codes == Counter({"conflict": losers}), burst
    assert race.seats(runtime) == scenario.full
    # The guard kept every other check out while the first transaction held the window.
    assert not race.gate.met


class TestWithoutTheGuard:
    """Control twins: the same bursts with `guard.enabled = False`.

    PostgreSQL: without the advisory locks every transaction that read the time as free
    writes it, so the time is double booked (the group sitting overfilled). These run on
    a database of their own without the exclusion constraint, which would otherwise turn
    one-on-one double bookings into 409s (it has no say over group seats at all: the
    attendees of one sitting may share the time, so only the lock counts seats).

    SQLite: without BEGIN IMMEDIATE a booking starts as a deferred read transaction. In
    WAL mode a reader can only become a writer while its snapshot is still the newest, and
    SQLite does not wait (no busy timeout) when a read transaction asks to write. So the
    time is never double booked, but a transaction that read the time as free and lost the
    race to write it fails with "database is locked": a 500 instead of a clean 409. BEGIN
    IMMEDIATE is what queues the writers, so that each one checks the world the previous
    one left and answers 409 itself.
    """

    @pytest.fixture(params=requested_backends())
    def database(self, request: pytest.FixtureRequest) -> Iterator[Any]:
        if request.param == "sqlite":
            source: Any = request.getfixturevalue("sqlite_template")
        else:
            source = request.getfixturevalue("postgres_without_backstop")
        with source.database() as database:
            yield database

    @scenarios()
    def test_the_race_is_real(
        self,
        app: FastAPI,
        runtime: Runtime,
        make_token: TokenFactory,
        race: Race,
        scenario: Scenario,
    ) -> None:
        token = make_token()
        with guard_disabled():
            burst = run(app, token, race, scenario)

        assert race.gate.met, "two availability checks should have been open at once"
        seats = race.seats(runtime)
        assert sum(seats.values()) - scenario.seated == burst.statuses[201], burst
        if runtime.db.is_sqlite:
            # Never double booked, but some losers are 500s rather than clean 409s.
            assert all(seats[name] <= full for name, full in scenario.full.items()), seats
            assert set(burst.statuses) <= {201, 409, 500}, burst
            assert burst.codes["generalException"] == burst.statuses[500] >= 1, burst
        else:
            # Double booked: more winners than seats, and the database holds them all.
            assert set(burst.statuses) <= {201, 409}, burst
            assert burst.statuses[201] > scenario.winners, burst
            assert any(seats.get(name, 0) > full for name, full in scenario.full.items()), seats
