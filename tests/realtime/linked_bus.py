"""Event buses of several app instances joined like one Redis would join processes.

Each app instance runs on its own event loop (its own TestClient thread); a publish on
any of them reaches every instance subscribed to the channel, on that instance's loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from openvisit.bus.port import Deliver


class LinkedBuses:
    def __init__(self) -> None:
        self.members: list[LinkedBus] = []

    def bus(self) -> LinkedBus:
        member = LinkedBus(self)
        self.members.append(member)
        return member


class LinkedBus:
    name = "linked"
    crosses_processes = True

    def __init__(self, network: LinkedBuses) -> None:
        self._network = network
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deliver: Deliver | None = None
        self._channels: set[str] = set()

    @property
    def connected(self) -> bool:
        return self._loop is not None

    async def start(self, deliver: Deliver, on_reconnect: Callable[[], None] | None = None) -> None:
        del on_reconnect
        self._deliver = deliver
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._loop = None
        self._deliver = None

    async def publish(self, channel: str, payload: str) -> None:
        self.publish_threadsafe(channel, payload)

    def publish_threadsafe(self, channel: str, payload: str) -> None:
        for member in self._network.members:
            loop = member._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(member._dispatch, channel, payload)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    def _dispatch(self, channel: str, payload: str) -> None:
        if self._deliver is not None and channel in self._channels:
            self._deliver(channel, payload)
