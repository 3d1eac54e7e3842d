"""Fixtures of the bus tests: each adapter against its real server, and a recorder."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from openvisit.bus import EventBus, InProcessEventBus
from openvisit.bus._network import Timing
from openvisit.bus.postgres import PostgresEventBus
from openvisit.bus.redis import RedisEventBus
from tests.bus.servers import PostgresChannelDatabase, RedisServer

WAIT_SECONDS = 10.0
# Quick to notice and to come back, so the reconnect tests take a second, not a minute.
FAST = Timing(connect_timeout=2.0, heartbeat_seconds=1.0, backoff_longest=0.2)

KINDS = ("inprocess", "redis", "postgres")
BusFactory = Callable[..., EventBus]


class Recorder:
    """A `deliver` and an `on_reconnect` that remember what they were given."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.reconnects = 0
        self.threads: set[int] = set()  # where deliver ran
        self._changed = asyncio.Event()

    def deliver(self, channel: str, payload: str) -> None:
        self.events.append((channel, payload))
        self.threads.add(threading.get_ident())
        self._changed.set()

    def reconnected(self) -> None:
        self.reconnects += 1
        self._changed.set()

    def payloads(self, channel: str | None = None) -> list[str]:
        return [payload for name, payload in self.events if channel in (None, name)]

    async def wait_for(self, done: Callable[[Recorder], bool], what: str) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_SECONDS):
                while not done(self):
                    self._changed.clear()
                    await self._changed.wait()
        assert done(self), f"{what}; got events {self.events}, reconnects {self.reconnects}"

    async def wait_events(self, count: int) -> None:
        await self.wait_for(lambda recorder: len(recorder.events) >= count, f"{count} events")


async def delivers(bus: EventBus, recorder: Recorder, channel: str, payload: str) -> None:
    """Publish one event and see it arrive (the bus is connected and subscribed)."""
    before = len(recorder.events)
    await bus.publish(channel, payload)
    await recorder.wait_events(before + 1)
    assert recorder.events[-1] == (channel, payload)


# Backoff slow enough that a test sees the bus disconnected before it comes back.
SLOW_BACK = replace(FAST, backoff_first=1.0, backoff_longest=1.0)


async def disconnected_then_back(bus: EventBus, recorder: Recorder) -> None:
    """After its connection was cut: `connected` turns false, then true again with the
    reconnect."""
    async with asyncio.timeout(WAIT_SECONDS):
        while bus.connected:
            await asyncio.sleep(0.01)
    assert recorder.reconnects == 0
    await recorder.wait_for(lambda r: r.reconnects == 1, "on_reconnect after the cut")
    assert bus.connected


@asynccontextmanager
async def running(bus: EventBus, recorder: Recorder | None = None) -> AsyncIterator[Recorder]:
    recorder = recorder or Recorder()
    await bus.start(recorder.deliver, recorder.reconnected)
    try:
        yield recorder
    finally:
        await bus.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server this test alone uses: it may stop, freeze and restart it."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_events_database() -> Iterator[PostgresChannelDatabase]:
    database = PostgresChannelDatabase()
    yield database
    database.drop()


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_bus(kind: str, request: pytest.FixtureRequest) -> BusFactory:
    """make_bus() -> a new, stopped adapter of this test's kind, on its real server."""
    if kind == "redis":
        url = request.getfixturevalue("redis_server").url
        return lambda **options: RedisEventBus(url, timing=replace(FAST, **options))
    if kind == "postgres":
        dsn = request.getfixturevalue("pg_events_database").dsn
        return lambda **options: PostgresEventBus(dsn, timing=replace(FAST, **options))
    return InProcessEventBus
