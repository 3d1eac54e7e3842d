"""The event bus of one process: events never leave it (one worker, and tests)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from openvisit.bus.port import Deliver

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
        on_reconnect: Callable[[], None] | None = None,  # noqa: ARG002 - it never loses events
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
        if self._loop is not None:
            self._loop.call_soon(self._dispatch, channel, payload)

    def publish_threadsafe(self, channel: str, payload: str) -> None:
        loop = self._loop
        if loop is None:
            logger.debug("event bus not running; dropped an event on %s", channel)
            return
        try:
            loop.call_soon_threadsafe(self._dispatch, channel, payload)
        except RuntimeError:  # the loop closed since we looked
            logger.debug("event loop closed; dropped an event on %s", channel)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    def _dispatch(self, channel: str, payload: str) -> None:
        if self._deliver is None or channel not in self._channels:
            return
        try:
            self._deliver(channel, payload)
        except Exception:  # one broken handler must not stop the next events
            logger.exception("event handler failed for channel %s", channel)
