"""A booked visit on the morning of its day, and the app that serves its WebSocket."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openvisit.app import create_app
from openvisit.clock import FixedClock
from openvisit.join_links import join_token
from openvisit.realtime.endpoint import Limits
from openvisit.runtime import Runtime
from openvisit.store.models import OnlineMeeting
from tests.bookings.clinic import book_at
from tests.visits import Visit, make_visit

# Tuesday 07:00 in New York: the day of the 10:00 visit tests/visits.py books.
MORNING = datetime.fromisoformat("2026-11-24T12:00:00+00:00")
FAST = Limits(hello_seconds=0.3, heartbeat_seconds=0.2, missed_heartbeats=3)


@pytest.fixture
def visit_runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    clock.advance(MORNING - clock.now())
    # A provider signed in at 07:00 is still signed in at the 10:00 visit.
    return dataclasses.replace(runtime, session_max_age_seconds=24 * 3600)


@pytest.fixture
def visit(visit_runtime: Runtime) -> Visit:
    return make_visit(visit_runtime)


AppMaker = Callable[..., FastAPI]


class AppPool:
    """Apps for the session's tests, each test taking as many as it runs (two for two
    server processes). Building one costs half a second (FastAPI analyses its ~370
    routes), and most tests here need one; the app reads its runtime, realtime limits
    and hub from app.state, so an app handed on with those reset serves like a new one
    (hub_of builds a hub for each runtime)."""

    def __init__(self) -> None:
        self._apps: list[FastAPI] = []
        self._taken = 0

    def take(self, runtime: Runtime, limits: Limits | None = None) -> FastAPI:
        if self._taken == len(self._apps):
            self._apps.append(create_app(runtime=runtime))
        app = self._apps[self._taken]
        self._taken += 1
        app.state.runtime = runtime
        app.state.realtime_limits = limits  # None: the defaults
        app.state.realtime_hub = None
        return app

    def give_back(self) -> None:
        self._taken = 0


@pytest.fixture(scope="session")
def _app_pool() -> AppPool:
    return AppPool()


@pytest.fixture
def build_app(_app_pool: AppPool) -> Iterator[AppMaker]:
    """build_app(runtime, limits=None): an app of its own serving that runtime."""
    yield _app_pool.take
    _app_pool.give_back()


@pytest.fixture
def rt_app(build_app: AppMaker, visit_runtime: Runtime) -> FastAPI:
    return build_app(visit_runtime)


@pytest.fixture
def rt_client(rt_app: FastAPI) -> Iterator[TestClient]:
    # Entered, so every WebSocket of the test runs on one event loop with the hub's.
    with TestClient(rt_app) as client:
        yield client


def later(clock: FixedClock, **delta: float) -> None:
    clock.advance(timedelta(**delta))


def another_visit(runtime: Runtime, visit: Visit, start: datetime) -> str:
    """The consumer join token of one more online visit with the same provider."""
    appointment = book_at(runtime, visit.clinic, start, customers=({"name": "Sam Park"},))
    meeting_id = str(uuid.uuid4())
    with runtime.db.write() as session:
        session.add(
            OnlineMeeting(
                id=meeting_id,
                business_id=visit.clinic["business"],
                appointment_id=appointment.id,
                start_date_time=appointment.start_date_time,
                end_date_time=appointment.end_date_time,
                created_date_time=runtime.clock.now(),
                properties={},
            )
        )
    return join_token(
        runtime.secret_key, meeting_id, role="consumer", version=0, end=appointment.end_date_time
    )
