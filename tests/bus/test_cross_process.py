"""Two OS processes exchange events both ways, over Redis and over PostgreSQL, and two
adapters in one process behave like two processes (each gets every event once)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import replace

import pytest

from openvisit.bus import EventBus
from openvisit.bus.postgres import PostgresEventBus
from openvisit.bus.redis import RedisEventBus
from tests.bus.conftest import FAST, Recorder, delivers, running

PEER_SECONDS = 30


@pytest.fixture(params=["redis", "postgres"])
def network_url(request: pytest.FixtureRequest) -> tuple[str, str]:
    if request.param == "redis":
        return "redis", request.getfixturevalue("redis_server").url
    return "postgres", request.getfixturevalue("pg_events_database").dsn


def _adapter(kind: str, url: str) -> EventBus:
    return (
        RedisEventBus(url, timing=FAST) if kind == "redis" else PostgresEventBus(url, timing=FAST)
    )


def test_two_processes_exchange_events_both_ways(network_url):
    kind, url = network_url
    channel = "meeting:cross-process"

    async def scenario() -> None:
        bus = _adapter(kind, url)
        async with running(bus) as recorder:
            await bus.subscribe(channel)
            await bus.subscribe("staff:other")
            peer = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.bus.peer", kind, url, channel,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )  # fmt: skip
            assert peer.stdin is not None and peer.stdout is not None
            try:
                async with asyncio.timeout(PEER_SECONDS):
                    assert await peer.stdout.readline() == b"ready\n"
                    peer.stdin.write(b"go\n")
                    await peer.stdin.drain()
                    await bus.publish(channel, "from-test")
                    await bus.publish("staff:other", "not for the peer")
                    peer_received = json.loads(await peer.stdout.readline())
                    assert await peer.wait() == 0
            finally:
                if peer.returncode is None:
                    peer.kill()
                    await peer.wait()
            await recorder.wait_for(lambda r: len(r.payloads(channel)) >= 2, "both events")

            assert sorted(map(tuple, peer_received)) == [
                (channel, "from-peer"),
                (channel, "from-test"),
            ]
            assert sorted(recorder.payloads(channel)) == ["from-peer", "from-test"]

    asyncio.run(scenario())


def test_each_adapter_of_a_channel_gets_an_event_once(network_url):
    kind, url = network_url

    async def scenario() -> None:
        first, second, deaf = (_adapter(kind, url) for _ in range(3))
        async with running(first) as one, running(second) as two, running(deaf) as none:
            await first.subscribe("meeting:shared")
            await second.subscribe("meeting:shared")
            await deaf.subscribe("meeting:elsewhere")
            await first.publish("meeting:shared", "a")
            await second.publish("meeting:shared", "b")
            second.publish_threadsafe("meeting:shared", "c")
            await deaf.publish("meeting:shared", "d")  # publishing needs no subscription
            await asyncio.gather(one.wait_events(4), two.wait_events(4))
            await deaf.publish("meeting:elsewhere", "marker")
            await none.wait_events(1)
            await first.publish("meeting:shared", "marker")
            await asyncio.gather(one.wait_events(5), two.wait_events(5))

            for recorder in (one, two):
                assert sorted(recorder.payloads()) == ["a", "b", "c", "d", "marker"]
            assert none.events == [("meeting:elsewhere", "marker")]

    asyncio.run(scenario())


def test_prefixes_and_pg_channels_keep_two_installations_apart(network_url):
    kind, url = network_url

    async def scenario() -> None:
        ours: EventBus
        theirs: EventBus
        if kind == "redis":
            ours, theirs = (
                RedisEventBus(url, timing=FAST),
                RedisEventBus(url, prefix="b:", timing=FAST),
            )
        else:
            ours = PostgresEventBus(url, timing=FAST)
            theirs = PostgresEventBus(url, pg_channel="other_install", timing=FAST)
        async with running(ours) as mine, running(theirs, Recorder()) as other:
            await ours.subscribe("meeting:1")
            await theirs.subscribe("meeting:1")
            await theirs.publish("meeting:1", "theirs")
            await other.wait_events(1)
            await ours.publish("meeting:1", "ours")
            await mine.wait_events(1)

            assert mine.events == [("meeting:1", "ours")]
            assert other.events == [("meeting:1", "theirs")]

    asyncio.run(scenario())


def test_a_quiet_connection_survives_its_heartbeats(network_url):
    kind, url = network_url
    timing = replace(FAST, heartbeat_seconds=0.2)

    async def scenario() -> None:
        bus = (
            RedisEventBus(url, timing=timing)
            if kind == "redis"
            else PostgresEventBus(url, timing=timing)
        )
        async with running(bus) as recorder:
            await bus.subscribe("meeting:1")
            await asyncio.sleep(1.5)  # seven heartbeats with nothing to carry
            await delivers(bus, recorder, "meeting:1", "still here")

            assert recorder.reconnects == 0

    asyncio.run(scenario())


def test_subscribing_again_after_unsubscribing_hears_the_next_event(network_url):
    kind, url = network_url

    async def scenario() -> None:
        listener, publisher = _adapter(kind, url), _adapter(kind, url)
        async with running(listener) as recorder, running(publisher):
            for round_number in range(5):
                await listener.subscribe("meeting:1")
                await listener.unsubscribe("meeting:1")
                await asyncio.gather(
                    listener.subscribe("meeting:1"), listener.subscribe("meeting:1")
                )
                await publisher.publish("meeting:1", f"round {round_number}")
                await recorder.wait_events(round_number + 1)

            assert recorder.payloads() == [f"round {n}" for n in range(5)]

    asyncio.run(scenario())
