"""The event bus of a single process: events never leave it.

It is the default of the embedded set-up (`openvisit serve` with one worker) and of the
tests. `serve --workers N` refuses it (bus/choice.py): the consumer and the provider of
one visit may then sit in different processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from openvisit.bus.port import BusNotRunningError, Deliver, LoopBoundBus, check_channel


class InProcessEventBus(LoopBoundBus):
    name = "inprocess"
    crosses_processes = False

    async def start(
        self,
        deliver: Deliver,
        on_reconnect: Callable[[], None] | None = None,  # noqa: ARG002 - never lost, never called
    ) -> None:
        if self._loop is not None:
            raise RuntimeError("The event bus is already running.")
        self._deliver = deliver
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._loop = None
        self._deliver = None
        self._channels.clear()

    async def publish(self, channel: str, payload: str) -> None:
        self._check(channel, payload)
        if self._loop is None:
            raise BusNotRunningError("The event bus is not running (start it first).")
        # Delivered from the loop, not inside publish, as the other adapters do: a handler
        # that publishes in turn never runs nested in its caller.
        self._loop.call_soon(self._dispatch, channel, payload)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(check_channel(channel))

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(check_channel(channel))

    def _accept(self, channel: str, payload: str) -> None:
        self._dispatch(channel, payload)
