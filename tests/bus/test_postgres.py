"""The PostgreSQL adapter: the NOTIFY size limit, and coming back after its backends end."""

from __future__ import annotations

import asyncio
import threading

import psycopg
import pytest

from openvisit.bus import BusUnavailableError, PayloadTooLargeError
from openvisit.bus.postgres import APPLICATION_NAME, NOTIFY_MAX_BYTES, PostgresEventBus
from tests.bus.conftest import FAST, SLOW_BACK, delivers, disconnected_then_back, running
from tests.live import free_port


def _payload_of(envelope_bytes: int, channel: str, unit: str = "x") -> str:
    """A payload whose envelope (channel, newline, payload) is exactly this many bytes."""
    room = envelope_bytes - len(channel) - 1
    width = len(unit.encode())
    return unit * (room // width) + "x" * (room % width)


def test_the_largest_payload_postgres_carries_arrives_whole(pg_events_database):
    channel = "meeting:big"

    async def scenario() -> None:
        bus = PostgresEventBus(pg_events_database.dsn, timing=FAST)
        async with running(bus) as recorder:
            await bus.subscribe(channel)
            for unit in ("x", "é", "👩"):  # the limit counts UTF-8 bytes, not characters
                payload = _payload_of(NOTIFY_MAX_BYTES, channel, unit)
                await delivers(bus, recorder, channel, payload)
                assert len(f"{channel}\n{recorder.events[-1][1]}".encode()) == NOTIFY_MAX_BYTES

    asyncio.run(scenario())


def test_a_payload_over_the_limit_is_refused_not_lost(pg_events_database):
    channel = "meeting:big"

    async def scenario() -> None:
        bus = PostgresEventBus(pg_events_database.dsn, timing=FAST)
        async with running(bus) as recorder:
            await bus.subscribe(channel)
            for unit in ("x", "é"):
                too_big = _payload_of(NOTIFY_MAX_BYTES + 1, channel, unit)
                with pytest.raises(PayloadTooLargeError, match=r"is 8000 bytes .* at most 7999"):
                    await bus.publish(channel, too_big)
                # From a service's thread the refusal reaches that thread, not a log line.
                raised: list[BaseException] = []
                thread = threading.Thread(target=_publish_in_thread, args=(bus, too_big, raised))
                thread.start()
                thread.join()
                assert [type(error) for error in raised] == [PayloadTooLargeError]
            await delivers(bus, recorder, channel, "small")
            assert recorder.payloads() == ["small"]

    asyncio.run(scenario())


def _publish_in_thread(bus: PostgresEventBus, payload: str, raised: list[BaseException]) -> None:
    try:
        bus.publish_threadsafe("meeting:big", payload)
    except Exception as error:  # handed back to the test's thread
        raised.append(error)


def test_a_terminated_listener_reconnects_relistens_and_reports(pg_events_database):
    async def scenario() -> None:
        bus = PostgresEventBus(pg_events_database.dsn, timing=FAST)
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await delivers(bus, recorder, "meeting:1", "before")
            listener = bus.listener_pid
            assert listener is not None
            await asyncio.to_thread(pg_events_database.terminate, listener)

            await recorder.wait_for(lambda r: r.reconnects == 1, "on_reconnect after terminate")
            assert bus.listener_pid not in (None, listener)
            await delivers(bus, recorder, "meeting:1", "after")
            assert recorder.payloads() == ["before", "after"]

    asyncio.run(scenario())


def test_a_terminated_listener_is_disconnected_until_it_is_back(pg_events_database):
    async def scenario() -> None:
        bus = PostgresEventBus(pg_events_database.dsn, timing=SLOW_BACK)
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            listener = bus.listener_pid
            assert listener is not None
            await asyncio.to_thread(pg_events_database.terminate, listener)

            await disconnected_then_back(bus, recorder)

    asyncio.run(scenario())


def test_a_terminated_publisher_connection_is_replaced_without_losing_the_event(
    pg_events_database,
):
    async def scenario() -> None:
        bus = PostgresEventBus(pg_events_database.dsn, timing=FAST)
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await delivers(bus, recorder, "meeting:1", "before")
            ours = await asyncio.to_thread(pg_events_database.backend_pids, APPLICATION_NAME)
            [publisher] = ours - {bus.listener_pid}
            await asyncio.to_thread(pg_events_database.terminate, publisher)

            await delivers(bus, recorder, "meeting:1", "after")  # sent again, once
            await delivers(bus, recorder, "meeting:1", "marker")
            assert recorder.payloads() == ["before", "after", "marker"]
            assert recorder.reconnects == 0  # the listener never noticed

    asyncio.run(scenario())


def test_a_foreign_notify_on_the_channel_is_ignored(pg_events_database):
    async def scenario() -> None:
        bus = PostgresEventBus(pg_events_database.dsn, timing=FAST)
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await asyncio.to_thread(_notify, pg_events_database.dsn, "no envelope")
            await delivers(bus, recorder, "meeting:1", "ours")
            assert recorder.events == [("meeting:1", "ours")]

    asyncio.run(scenario())


def _notify(dsn: str, payload: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("SELECT pg_notify('openvisit_events', %s)", (payload,))


def test_start_fails_with_the_reason_when_postgres_is_unreachable():
    dsn = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/nowhere"

    async def scenario() -> None:
        bus = PostgresEventBus(dsn, timing=FAST)
        with pytest.raises(BusUnavailableError) as raised:
            await bus.start(lambda _c, _p: None)
        message = str(raised.value)
        assert message.startswith("Cannot LISTEN on PostgreSQL at postgresql://postgres:***@")
        assert "OPENVISIT_DATABASE_URL" in message
        assert "s3cret" not in message

    asyncio.run(scenario())
