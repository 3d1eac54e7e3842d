"""What the Redis and PostgreSQL adapters share: a listening connection kept alive by one
supervising task, local channel filtering, the thread-safe publish queue, reconnecting.

An adapter supplies the connection work (`_connect`, `_listen`, `_drop`, `_send`, ...);
this class owns the life cycle and the rules of bus/port.py:

- `start` connects once and raises BusUnavailableError if that fails: a wrong URL or a
  server that is down stops the start, with the reason, instead of a silent lobby.
- After that a lost connection is never fatal. The supervisor reconnects with backoff
  (50 ms doubling to 5 s, with jitter so the workers of a restarted server do not all
  knock at once), subscribes again to every channel, and then calls `on_reconnect` so the
  caller reloads what it missed from the database.
- `publish_threadsafe` hands events to one sender task through a bounded queue, so one
  thread's events leave in the order it published them and a slow or absent server never
  blocks a request thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from openvisit.bus.port import (
    BusNotRunningError,
    BusUnavailableError,
    Deliver,
    LoopBoundBus,
    check_channel,
)

logger = logging.getLogger("openvisit.bus")

QUEUE_LIMIT = 10_000  # events waiting for the sender task; past it new ones are dropped
BATCH_LIMIT = 500  # queued events the sender hands `_send_many` at once
STOP_FLUSH_SECONDS = 2.0


def backoff_delays(first: float, longest: float) -> Iterator[float]:
    """first, 2*first, 4*first ... up to `longest`, each with +-20% jitter; endless."""
    delay = first
    while True:
        yield delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret
        delay = min(delay * 2, longest)


@dataclass(frozen=True)
class Timing:
    """How long to wait for a server, how often to check a quiet one, how fast to retry."""

    connect_timeout: float = 5.0  # connect and subscribe, at start and on every reconnect
    heartbeat_seconds: float = 15.0  # a connection silent for two of these is dead
    backoff_first: float = 0.05
    backoff_longest: float = 5.0


class NetworkEventBus(LoopBoundBus):
    name: str
    crosses_processes = True

    def __init__(self, timing: Timing) -> None:
        super().__init__()
        self._connect_timeout = timing.connect_timeout
        self._heartbeat = timing.heartbeat_seconds
        self._backoff = (timing.backoff_first, timing.backoff_longest)
        self._on_reconnect: Callable[[], None] | None = None
        self._queue: asyncio.Queue[tuple[str, str]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = False
        self.reconnects = 0  # how often the listening connection came back (for logs, tests)

    # -- what an adapter implements ---------------------------------------------------

    @abstractmethod
    async def _connect(self) -> None:
        """Open the listening connection and subscribe it to every channel in `_channels`."""

    @abstractmethod
    async def _listen(self) -> None:
        """Receive and `_dispatch` events until the connection fails (raise) or is silent."""

    @abstractmethod
    async def _drop(self) -> None:
        """Close the listening connection, ignoring errors."""

    @abstractmethod
    async def _send(self, channel: str, payload: str) -> None:
        """Publish one event; raise BusUnavailableError if the server did not take it."""

    async def _send_many(self, events: list[tuple[str, str]]) -> None:
        """Publish queued events in order; an adapter may send them in one round trip."""
        for channel, payload in events:
            try:
                await self._send(channel, payload)
            except BusUnavailableError as error:
                logger.warning(
                    "event bus %s: dropped an event on %s: %s", self.name, channel, error
                )

    @abstractmethod
    async def _close_publisher(self) -> None:
        """Close what `_send` opened."""

    @abstractmethod
    async def _add(self, channel: str) -> None:
        """Subscribe the open listening connection to `channel` (and wait until it is)."""

    @abstractmethod
    async def _added(self, channel: str) -> None:
        """Return once a subscription to `channel` already sent is confirmed."""

    @abstractmethod
    async def _remove(self, channel: str) -> None:
        """Unsubscribe the open listening connection from `channel`."""

    @abstractmethod
    def _unavailable(self, error: BaseException) -> str:
        """One sentence: which server could not be reached, and what to check."""

    # -- the port ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        # A plain read of two fields: /readyz asks from a request thread.
        return self._loop is not None and self._connected

    async def start(self, deliver: Deliver, on_reconnect: Callable[[], None] | None = None) -> None:
        if self._loop is not None:
            raise RuntimeError("The event bus is already running.")
        try:
            async with asyncio.timeout(self._connect_timeout):
                await self._connect()
        except Exception as error:
            await self._drop()
            await self._close_publisher()
            raise BusUnavailableError(self._unavailable(error)) from error
        self._connected = True
        self._loop = asyncio.get_running_loop()
        self._deliver = deliver
        self._on_reconnect = on_reconnect
        self._queue = asyncio.Queue(QUEUE_LIMIT)
        self._tasks = [
            asyncio.create_task(self._supervise(), name=f"event bus {self.name}: listen"),
            asyncio.create_task(self._send_queued(), name=f"event bus {self.name}: send"),
        ]

    async def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        if self._queue is not None:  # what threads published before the stop still leaves
            await asyncio.sleep(0)  # let their call_soon_threadsafe callbacks queue it first
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_FLUSH_SECONDS):
                    await self._queue.join()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._deliver = None
        self._on_reconnect = None
        self._queue = None
        self._connected = False
        self._channels.clear()
        await self._drop()
        await self._close_publisher()

    async def publish(self, channel: str, payload: str) -> None:
        self._check(channel, payload)
        if self._loop is None:
            raise BusNotRunningError("The event bus is not running (start it first).")
        await self._send(channel, payload)

    async def subscribe(self, channel: str) -> None:
        check_channel(channel)
        if channel in self._channels:
            await self._added(channel)  # another task's subscribe may still be on its way
            return
        self._channels.add(channel)
        if self._connected:
            await self._add(channel)

    async def unsubscribe(self, channel: str) -> None:
        check_channel(channel)
        if channel not in self._channels:
            return
        self._channels.discard(channel)
        if self._connected:
            await self._remove(channel)

    # -- shared machinery -------------------------------------------------------------

    def _accept(self, channel: str, payload: str) -> None:
        """Queue a thread's event for the sender task."""
        queue = self._queue
        if queue is None:
            return
        try:
            queue.put_nowait((channel, payload))
        except asyncio.QueueFull:
            logger.warning(
                "event bus %s: %d events wait to be sent; dropped one on %s",
                self.name,
                QUEUE_LIMIT,
                channel,
            )

    async def _send_queued(self) -> None:
        queue = self._queue
        assert queue is not None  # noqa: S101 - set by start() before this task runs
        while True:
            batch = [await queue.get()]
            while len(batch) < BATCH_LIMIT and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._send_many(batch)
            finally:
                for _event in batch:
                    queue.task_done()

    async def _supervise(self) -> None:
        while True:
            try:
                await self._listen()
                reason = "the server stopped answering"
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure of the connection: reconnect
                reason = str(error).strip() or type(error).__name__
            self._connected = False
            await self._drop()
            logger.warning("event bus %s: connection lost (%s); reconnecting", self.name, reason)
            await self._reconnect()
            self._connected = True
            self.reconnects += 1
            logger.info("event bus %s: reconnected and subscribed again", self.name)
            self._call_on_reconnect()

    async def _reconnect(self) -> None:
        for attempt, delay in enumerate(backoff_delays(*self._backoff), start=1):
            await asyncio.sleep(delay)
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await self._connect()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # still down: wait longer
                level = logging.WARNING if attempt % 10 == 1 else logging.DEBUG
                logger.log(
                    level,
                    "event bus %s: reconnect attempt %d failed: %s",
                    self.name,
                    attempt,
                    error,
                )
                await self._drop()

    def _call_on_reconnect(self) -> None:
        if self._on_reconnect is None:
            return
        try:
            self._on_reconnect()
        except Exception:  # the bus keeps running whatever the resync does
            logger.exception("event bus %s: on_reconnect failed", self.name)
