"""A second OS process on the bus, for the cross-process tests.

    python -m tests.bus.peer redis|postgres URL CHANNEL

It starts the adapter, subscribes to CHANNEL, prints `ready`, waits for `go` on standard
input, publishes `from-peer` on CHANNEL, and once it has received two events (its own and
the test's) prints them as one JSON line and exits 0. It exits 1 after WAIT_SECONDS.
"""

from __future__ import annotations

import asyncio
import json
import sys

from openvisit.bus.choice import BusName, build_event_bus

WAIT_SECONDS = 15.0


async def main(kind: str, url: str, channel: str) -> int:
    name: BusName = "redis" if kind == "redis" else "postgres"
    bus = build_event_bus(name, redis_url=url, database_url=url)
    received: list[list[str]] = []
    two = asyncio.Event()

    def deliver(got_channel: str, payload: str) -> None:
        received.append([got_channel, payload])
        if len(received) >= 2:
            two.set()

    await bus.start(deliver)
    try:
        await bus.subscribe(channel)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        line = await asyncio.to_thread(sys.stdin.readline)
        if line.strip() != "go":
            return 1
        await bus.publish(channel, "from-peer")
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                await two.wait()
        except TimeoutError:
            return 1
        await asyncio.sleep(0.3)  # a third (duplicate) event would show up here
        sys.stdout.write(json.dumps(received) + "\n")
        sys.stdout.flush()
        return 0
    finally:
        await bus.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
