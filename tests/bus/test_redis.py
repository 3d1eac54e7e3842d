"""The Redis adapter loses its connection and comes back: killed, restarted, frozen."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from openvisit.bus import BusUnavailableError
from openvisit.bus.redis import RedisEventBus
from tests.bus.conftest import FAST, SLOW_BACK, delivers, disconnected_then_back, running
from tests.live import free_port


def test_a_killed_subscriber_connection_reconnects_resubscribes_and_reports(own_redis_server):
    async def scenario() -> None:
        bus = RedisEventBus(own_redis_server.url, timing=FAST)
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await bus.subscribe("staff:2")
            await delivers(bus, recorder, "meeting:1", "before")
            with own_redis_server.client() as admin:
                assert admin.execute_command("CLIENT KILL TYPE pubsub") == 1

            await recorder.wait_for(lambda r: r.reconnects == 1, "on_reconnect after the kill")
            await delivers(bus, recorder, "meeting:1", "after")
            await delivers(bus, recorder, "staff:2", "after too")
            with own_redis_server.client() as admin:
                channels = admin.pubsub_channels("openvisit:*")
            assert sorted(channels) == ["openvisit:meeting:1", "openvisit:staff:2"]
            assert bus.reconnects == 1

    asyncio.run(scenario())


def test_a_killed_connection_is_disconnected_until_it_is_back(own_redis_server):
    async def scenario() -> None:
        bus = RedisEventBus(own_redis_server.url, timing=SLOW_BACK)
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            with own_redis_server.client() as admin:
                assert admin.execute_command("CLIENT KILL TYPE pubsub") == 1

            await disconnected_then_back(bus, recorder)

    asyncio.run(scenario())


def test_a_restarted_server_is_reconnected_and_publishing_resumes(own_redis_server):
    async def scenario() -> None:
        bus = RedisEventBus(own_redis_server.url, timing=FAST)
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await delivers(bus, recorder, "meeting:1", "before")
            own_redis_server.stop()

            with pytest.raises(BusUnavailableError, match="Redis did not take the event"):
                await bus.publish("meeting:1", "while down")
            bus.publish_threadsafe("meeting:1", "dropped while down")  # logged, not raised
            await asyncio.sleep(0.5)  # a few reconnect attempts fail meanwhile
            assert recorder.reconnects == 0
            own_redis_server.start()

            await recorder.wait_for(lambda r: r.reconnects == 1, "on_reconnect after restart")
            await delivers(bus, recorder, "meeting:1", "after")
            assert recorder.payloads() == ["before", "after"]

    asyncio.run(scenario())


def test_a_server_that_stops_answering_is_noticed_by_the_heartbeat(own_redis_server):
    async def scenario() -> None:
        bus = RedisEventBus(own_redis_server.url, timing=replace(FAST, heartbeat_seconds=0.3))
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await delivers(bus, recorder, "meeting:1", "before")
            own_redis_server.pause()  # the connection stays open; nothing answers
            try:
                await asyncio.sleep(1.5)  # > two heartbeats
            finally:
                own_redis_server.resume()

            await recorder.wait_for(lambda r: r.reconnects == 1, "on_reconnect after the freeze")
            await delivers(bus, recorder, "meeting:1", "after")

    asyncio.run(scenario())


def test_start_fails_with_the_reason_when_redis_is_unreachable():
    port = free_port()
    url = f"redis://:s3cret@127.0.0.1:{port}/0"

    async def scenario() -> None:
        bus = RedisEventBus(url, timing=FAST)
        with pytest.raises(BusUnavailableError) as raised:
            await bus.start(lambda _c, _p: None)
        message = str(raised.value)
        assert message.startswith(f"Cannot reach Redis at redis://:***@127.0.0.1:{port}/0 ")
        assert "OPENVISIT_REDIS_URL" in message
        assert "s3cret" not in message

    asyncio.run(scenario())
