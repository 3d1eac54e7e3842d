"""The event bus of a single process: events never leave it.

It is the default of the embedded set-up (`openvisit serve` with one worker) and of the
tests. `serve --workers N` refuses it (bus/choice.py): the consumer and the provider of
one visit may then sit in different processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from openvisit.bus.port import BusNotRunningError, Deliver, check_channel, check_payload

logger = logging.getLogger(__name__)


class InProcessEventBus:
    name = "inprocess"
    crosses_processes = False

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deliver: Deliver | None = None
        self._channels: set[str] = set()

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
        check_channel(channel)
        check_payload(payload)
        if self._loop is None:
            raise BusNotRunningError("The event bus is not running (start it first).")
        # Delivered from the loop, not inside publish, as the other adapters do: a handler
        # that publishes in turn never runs nested in its caller.
        self._loop.call_soon(self._dispatch, channel, payload)

    def publish_threadsafe(self, channel: str, payload: str) -> None:
        check_channel(channel)
        check_payload(payload)
        loop = self._loop
        if loop is None:
            logger.debug("event bus not running; dropped an event on %s", channel)
            return
        try:
            loop.call_soon_threadsafe(self._dispatch, channel, payload)
        except RuntimeError:  # the loop closed since we looked
            logger.debug("event loop closed; dropped an event on %s", channel)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(check_channel(channel))

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(check_channel(channel))

    def _dispatch(self, channel: str, payload: str) -> None:
        deliver = self._deliver
        if deliver is None or channel not in self._channels:
            return
        try:
            deliver(channel, payload)
        except Exception:  # one broken handler must not stop the others' events
            logger.exception("event handler failed for channel %s", channel)
