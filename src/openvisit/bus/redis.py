"""The event bus over Redis pub/sub: any number of processes on any number of hosts.

Each process holds one connection that only subscribes, and publishes through a small
client pool of its own. A logical channel `meeting:42` is the Redis channel
`openvisit:meeting:42`, so other users of the same Redis are not disturbed.

The subscribing connection is a plain `redis.asyncio` connection read by one task rather
than redis-py's `PubSub` helper: that helper reconnects and re-subscribes by itself
inside `get_message`, which would hide the gap in which events were lost, and the port
must report every such gap through `on_reconnect`. A heartbeat PING every
`heartbeat_seconds` notices a server that went away without closing the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from openvisit.bus._network import NetworkEventBus, Timing
from openvisit.bus.port import BusUnavailableError
from openvisit.redact import mask_url_password

logger = logging.getLogger("openvisit.bus")

DEFAULT_PREFIX = "openvisit:"


class RedisEventBus(NetworkEventBus):
    name = "redis"

    def __init__(
        self, url: str, *, prefix: str = DEFAULT_PREFIX, timing: Timing = Timing()
    ) -> None:
        super().__init__(timing)
        self._url = url
        self._prefix = prefix
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_connect_timeout": self._connect_timeout,
            "socket_keepalive": True,
        }
        # A pool only as a factory of subscribing connections, built from the URL's options.
        self._factory = aioredis.ConnectionPool.from_url(url, **options)
        # No retries: a PUBLISH resent after a lost reply could arrive twice.
        self._publisher = aioredis.Redis.from_url(
            url, socket_timeout=self._connect_timeout, retry=Retry(NoBackoff(), 0), **options
        )
        self._connection: AbstractConnection | None = None
        self._pending: AbstractConnection | None = None  # being connected
        self._write_lock = asyncio.Lock()
        # Per channel, the SUBSCRIBEs sent and not yet confirmed, oldest first: Redis
        # confirms each in the order it was sent.
        self._confirming: dict[str, deque[asyncio.Future[None]]] = {}
        self._last_heard = 0.0

    # -- subscribing connection -------------------------------------------------------

    async def _connect(self) -> None:
        connection: AbstractConnection = self._factory.make_connection()  # type: ignore[no-untyped-call]
        self._connection = None
        self._pending = connection  # so _drop closes it if this fails half-way
        await connection.connect()  # type: ignore[no-untyped-call]
        confirmed: set[str] = set()
        # Channels may be subscribed while this runs: loop until none is missing.
        while missing := self._channels - confirmed:
            await connection.send_command(
                "SUBSCRIBE", *(self._prefix + name for name in missing), check_health=False
            )
            waiting = set(missing)
            while waiting:
                reply = await connection.read_response(push_request=True)
                kind, channel = self._handle(reply)
                if kind == "subscribe" and channel is not None:
                    waiting.discard(channel)
                    confirmed.add(channel)
        self._connection, self._pending = connection, None
        self._last_heard = asyncio.get_running_loop().time()
        if stale := confirmed - self._channels:  # unsubscribed while we were connecting
            await self._write("UNSUBSCRIBE", *(self._prefix + name for name in stale))

    async def _listen(self) -> None:
        connection = self._connection
        if connection is None:
            raise BusUnavailableError("not connected")
        reader = asyncio.create_task(self._read(connection))
        pinger = asyncio.create_task(self._ping())
        try:
            done, _pending = await asyncio.wait(
                {reader, pinger}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (reader, pinger):
                task.cancel()
            await asyncio.gather(reader, pinger, return_exceptions=True)
        for task in done:
            task.result()  # raises the read or write error

    async def _read(self, connection: AbstractConnection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            reply = await connection.read_response(push_request=True)
            self._last_heard = loop.time()
            self._handle(reply)

    async def _ping(self) -> None:
        """Return once Redis has been silent for two heartbeats (a half-open connection)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._heartbeat)
            if loop.time() - self._last_heard > 2 * self._heartbeat:
                return
            await self._write("PING")

    def _handle(self, reply: Any) -> tuple[str | None, str | None]:
        """Dispatch a message; resolve a subscribe confirmation. Returns (kind, channel)."""
        if not isinstance(reply, list) or len(reply) < 3:
            return None, None  # "PONG" outside subscribed mode
        kind, name, data = reply[0], reply[1], reply[2]
        if not isinstance(name, str) or not name.startswith(self._prefix):
            return kind, None
        channel = name[len(self._prefix) :]
        if kind == "message" and isinstance(data, str):
            self._dispatch(channel, data)
        elif kind == "subscribe" and (waiting := self._confirming.get(channel)):
            future = waiting.popleft()
            if not future.done():
                future.set_result(None)
            if not waiting:
                del self._confirming[channel]
        return kind, channel

    async def _add(self, channel: str) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirming.setdefault(channel, deque()).append(future)
        try:
            await self._write("SUBSCRIBE", self._prefix + channel)
        except (RedisError, OSError) as error:
            # The supervisor reconnects, subscribes every channel, calls on_reconnect.
            logger.debug("event bus redis: SUBSCRIBE %s not sent: %s", channel, error)
            if (waiting := self._confirming.get(channel)) and future in waiting:
                waiting.remove(future)  # no confirmation will come for it
            return
        await self._confirmed(channel, future)

    async def _added(self, channel: str) -> None:
        if waiting := self._confirming.get(channel):
            await self._confirmed(channel, waiting[-1])

    async def _confirmed(self, channel: str, future: asyncio.Future[None]) -> None:
        try:
            async with asyncio.timeout(self._connect_timeout):
                await asyncio.shield(future)
        except TimeoutError:  # a dead connection: the heartbeat will notice
            logger.warning("event bus redis: no confirmation of SUBSCRIBE %s yet", channel)

    async def _remove(self, channel: str) -> None:
        try:
            await self._write("UNSUBSCRIBE", self._prefix + channel)
        except (RedisError, OSError) as error:  # gone with the connection anyway
            logger.debug("event bus redis: UNSUBSCRIBE %s not sent: %s", channel, error)

    async def _write(self, *command: str) -> None:
        connection = self._connection
        if connection is None:
            return
        async with self._write_lock:
            await connection.send_command(*command, check_health=False)

    async def _drop(self) -> None:
        for waiting in self._confirming.values():
            for future in waiting:
                if not future.done():
                    future.set_result(None)  # on_reconnect follows once subscribed again
        self._confirming.clear()
        for connection in (self._connection, self._pending):
            if connection is not None:
                with contextlib.suppress(Exception):  # it is being thrown away
                    await connection.disconnect(nowait=True)
        self._connection = None
        self._pending = None

    # -- publishing -------------------------------------------------------------------

    async def _send(self, channel: str, payload: str) -> None:
        try:
            await self._publisher.publish(self._prefix + channel, payload)
        except (RedisError, OSError) as error:
            raise BusUnavailableError(
                f"Redis did not take the event on {channel}: {error}"
            ) from error

    async def _send_many(self, events: list[tuple[str, str]]) -> None:
        # One round trip for what the threads queued meanwhile: 5,000 events took 1-2 s
        # one PUBLISH at a time on a loaded two-core machine.
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                for channel, payload in events:
                    pipe.publish(self._prefix + channel, payload)
                await pipe.execute()
        except (RedisError, OSError) as error:
            logger.warning("event bus redis: dropped %d events: %s", len(events), error)

    async def _close_publisher(self) -> None:
        # Both stay usable: a later start() connects again.
        with contextlib.suppress(Exception):  # closing after a failure
            await self._publisher.aclose()
        with contextlib.suppress(Exception):
            await self._factory.disconnect()

    def _unavailable(self, error: BaseException) -> str:
        detail = str(error).strip() or type(error).__name__
        return (
            f"Cannot reach Redis at {mask_url_password(self._url)} for events ({detail}). "
            "Start Redis, or fix or unset OPENVISIT_REDIS_URL."
        )
