"""The port's contract (bus/port.py), for every adapter against its real server."""

from __future__ import annotations

import asyncio
import threading

import pytest

from openvisit.bus import (
    BusNotRunningError,
    EventBus,
    InvalidChannelError,
    InvalidPayloadError,
)
from tests.bus.conftest import Recorder, running

UNICODE = '{"text": "Grüße, 診察は10分後に 👩‍⚕️ — ok", "quote": "\\"x\\""}'


def test_an_event_reaches_its_subscriber_once(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await bus.publish("meeting:1", '{"type": "lobby.joined"}')
            await recorder.wait_events(1)
            await bus.publish("meeting:1", '{"type": "marker"}')
            await recorder.wait_events(2)

            # The publishing process is a subscriber like any other: once, not twice.
            assert recorder.events == [
                ("meeting:1", '{"type": "lobby.joined"}'),
                ("meeting:1", '{"type": "marker"}'),
            ]

    asyncio.run(scenario())


def test_channels_are_isolated(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await bus.publish("meeting:2", "other meeting")
            await bus.publish("meeting:10", "prefix of no one")
            await bus.publish("staff:1", "same id, other kind")
            await bus.publish("meeting:1", "mine")
            await recorder.wait_events(1)
            await bus.publish("meeting:1", "mine again")
            await recorder.wait_events(2)

            assert recorder.events == [("meeting:1", "mine"), ("meeting:1", "mine again")]

    asyncio.run(scenario())


def test_unsubscribe_stops_delivery_and_keeps_the_other_channels(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await bus.subscribe("staff:7")
            await bus.unsubscribe("meeting:1")
            await bus.unsubscribe("meeting:1")  # twice is fine
            await bus.unsubscribe("never:subscribed")
            # One publisher's events arrive in order: had meeting:1 come, it came first.
            await bus.publish("meeting:1", "gone")
            await bus.publish("staff:7", "kept")
            await recorder.wait_events(1)

            assert recorder.events == [("staff:7", "kept")]

    asyncio.run(scenario())


def test_subscribe_is_idempotent(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await bus.subscribe("meeting:1")
            await asyncio.gather(bus.subscribe("meeting:1"), bus.subscribe("meeting:1"))
            await bus.publish("meeting:1", "one")
            await bus.publish("meeting:1", "two")
            await recorder.wait_events(2)
            await bus.unsubscribe("meeting:1")  # one unsubscribe undoes them all
            await bus.subscribe("staff:1")
            await bus.publish("meeting:1", "three")
            await bus.publish("staff:1", "marker")
            await recorder.wait_events(3)

            assert recorder.payloads() == ["one", "two", "marker"]

    asyncio.run(scenario())


def test_unicode_payloads_and_channels_arrive_unchanged(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        channel = "meeting:AAMkAGI2-_.=+/@x" + "9" * 170  # 195 printable characters
        async with running(bus) as recorder:
            await bus.subscribe(channel)
            await bus.publish(channel, UNICODE)
            await bus.publish(channel, "")
            await bus.publish(channel, "line one\nline two\r\n\ttab")
            await recorder.wait_events(3)

            assert recorder.events == [
                (channel, UNICODE),
                (channel, ""),
                (channel, "line one\nline two\r\n\ttab"),
            ]

    asyncio.run(scenario())


def test_events_published_from_threads_arrive_in_each_threads_order(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")

            def publish(thread: int) -> None:
                for number in range(50):
                    bus.publish_threadsafe("meeting:1", f"{thread}:{number}")

            threads = [threading.Thread(target=publish, args=(n,)) for n in range(3)]
            for thread in threads:
                thread.start()
            await asyncio.to_thread(_join_all, threads)
            await recorder.wait_events(150)

            for thread_number in range(3):
                mine = [p for p in recorder.payloads() if p.startswith(f"{thread_number}:")]
                assert mine == [f"{thread_number}:{n}" for n in range(50)]
            assert len(recorder.events) == 150
            # deliver runs on the bus's loop, never on the publishing threads.
            assert recorder.threads == {threading.get_ident()}

    asyncio.run(scenario())


def test_equal_events_are_each_delivered(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            for _ in range(3):
                await bus.publish("meeting:1", "same")
            # Queued together from a thread, as a service's burst would be.
            await asyncio.to_thread(
                lambda: [bus.publish_threadsafe("meeting:1", "same") for _ in range(200)]
            )
            bus.publish_threadsafe("meeting:1", "last")
            await recorder.wait_for(lambda r: "last" in r.payloads(), "the last event")

            assert recorder.payloads() == ["same"] * 203 + ["last"]

    asyncio.run(scenario())


def _join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join()


def test_a_failing_handler_does_not_stop_later_events(make_bus, caplog):
    async def scenario() -> None:
        bus = make_bus()
        seen: list[str] = []
        recorder = Recorder()

        def deliver(channel: str, payload: str) -> None:
            seen.append(payload)
            if payload == "boom":
                raise RuntimeError("handler bug")
            recorder.deliver(channel, payload)

        await bus.start(deliver)
        try:
            await bus.subscribe("meeting:1")
            await bus.publish("meeting:1", "boom")
            await bus.publish("meeting:1", "after")
            await recorder.wait_events(1)
        finally:
            await bus.stop()

        assert seen == ["boom", "after"]

    asyncio.run(scenario())
    assert "event handler failed for channel meeting:1" in caplog.text


def test_bad_channels_and_payloads_are_refused_in_the_callers_thread(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        async with running(bus):
            for channel in ("", "has space", "tab\there", "é:1", "x" * 201, "new\nline"):
                with pytest.raises(InvalidChannelError, match="Invalid event channel"):
                    await bus.publish(channel, "{}")
                with pytest.raises(InvalidChannelError):
                    bus.publish_threadsafe(channel, "{}")
                with pytest.raises(InvalidChannelError):
                    await bus.subscribe(channel)
            for payload in ("nul\x00inside", b"{}"):
                with pytest.raises(InvalidPayloadError, match="JSON text"):
                    await bus.publish("meeting:1", payload)
                with pytest.raises(InvalidPayloadError):
                    bus.publish_threadsafe("meeting:1", payload)

    asyncio.run(scenario())


def test_a_bus_that_is_not_running_refuses_publish_and_drops_threadsafe_events(make_bus):
    async def scenario() -> None:
        bus: EventBus = make_bus()
        with pytest.raises(BusNotRunningError, match="not running"):
            await bus.publish("meeting:1", "{}")
        bus.publish_threadsafe("meeting:1", "{}")  # a service after commit: no error

        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await bus.publish("meeting:1", "while running")
            await recorder.wait_events(1)

        with pytest.raises(BusNotRunningError):
            await bus.publish("meeting:1", "{}")
        bus.publish_threadsafe("meeting:1", "{}")
        assert recorder.payloads() == ["while running"]

    asyncio.run(scenario())


def test_a_stopped_bus_starts_again_without_old_subscriptions(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        async with running(bus):
            await bus.subscribe("meeting:1")
            with pytest.raises(RuntimeError, match="already running"):
                await bus.start(lambda _c, _p: None)
        async with running(bus) as recorder:
            await bus.subscribe("staff:1")
            await bus.publish("meeting:1", "old subscription")
            await bus.publish("staff:1", "new")
            await recorder.wait_events(1)

            assert recorder.events == [("staff:1", "new")]

    asyncio.run(scenario())


def test_subscriptions_made_before_start_apply_once_it_runs(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        await bus.subscribe("meeting:1")
        async with running(bus) as recorder:
            await bus.publish("meeting:1", "hello")
            await recorder.wait_events(1)

            assert recorder.events == [("meeting:1", "hello")]

    asyncio.run(scenario())


def test_connected_while_running_only(make_bus):
    async def scenario() -> None:
        bus = make_bus()
        assert not bus.connected  # not started: nothing published would arrive
        async with running(bus):
            assert bus.connected
        assert not bus.connected

    asyncio.run(scenario())
