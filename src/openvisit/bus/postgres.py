"""The event bus over PostgreSQL LISTEN/NOTIFY: processes that share one database.

Every process LISTENs on one PostgreSQL channel (`openvisit_events`) on a connection of
its own and NOTIFYs on a second one. The logical channel travels inside the payload,
`<channel>\\n<payload>`, and each process keeps the events of the channels it subscribed
to: subscribing costs no round trip, and every process receives every event. That suits
the set-ups this adapter is for (a few web processes on one database); past that,
Redis routes each event only to the processes that want it.

PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. Such an event is refused with
PayloadTooLargeError before it is sent, in the caller's thread too, rather than lost on
the way; receivers of large data should get an id and read the rest from the database.
PostgreSQL merges equal notifications sent in one transaction; events queued by threads
go out many to a statement (one round trip), so equal ones are put in separate statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from psycopg import errors, sql

from openvisit.bus._network import NetworkEventBus, Timing
from openvisit.bus.port import (
    BusUnavailableError,
    PayloadTooLargeError,
    check_channel,
    check_payload,
)
from openvisit.redact import mask_url_password

logger = logging.getLogger("openvisit.bus")

DEFAULT_PG_CHANNEL = "openvisit_events"
NOTIFY_MAX_BYTES = 7999  # "must be shorter than 8000 bytes" (PostgreSQL's NOTIFY docs)
APPLICATION_NAME = "openvisit-events"
# The server ended the session before reading our query (a restart, pg_terminate_backend):
# the NOTIFY was never run, so sending it again on a new connection cannot double it.
_ENDED_BEFORE_QUERY = (errors.AdminShutdown, errors.CrashShutdown, errors.IdleSessionTimeout)


class PostgresEventBus(NetworkEventBus):
    name = "postgres"

    def __init__(
        self, dsn: str, *, pg_channel: str = DEFAULT_PG_CHANNEL, timing: Timing = Timing()
    ) -> None:
        super().__init__(timing)
        self._dsn = dsn
        self._pg_channel = pg_channel
        self._listener: psycopg.AsyncConnection[object] | None = None
        self._publisher: psycopg.AsyncConnection[object] | None = None
        self._publish_lock = asyncio.Lock()

    @property
    def listener_pid(self) -> int | None:
        """The backend pid of the listening connection (what pg_terminate_backend takes)."""
        return self._listener.info.backend_pid if self._listener is not None else None

    def _check(self, channel: str, payload: str) -> None:
        check_channel(channel)
        check_payload(payload)
        size = len(_envelope(channel, payload).encode("utf-8"))
        if size > NOTIFY_MAX_BYTES:
            raise PayloadTooLargeError(
                f"The event on {channel} is {size} bytes with its channel name; PostgreSQL "
                f"NOTIFY carries at most {NOTIFY_MAX_BYTES}. Publish an id and let receivers "
                "read the rest from the database, or use Redis (OPENVISIT_REDIS_URL)."
            )

    # -- listening connection ---------------------------------------------------------

    async def _open(self) -> psycopg.AsyncConnection[object]:
        return await psycopg.AsyncConnection.connect(
            self._dsn,
            autocommit=True,
            connect_timeout=max(1, round(self._connect_timeout)),
            application_name=APPLICATION_NAME,
        )

    async def _connect(self) -> None:
        connection = await self._open()
        self._listener = connection
        # Nothing to do per logical channel: they are filtered here, not by the server.
        await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._pg_channel)))

    async def _listen(self) -> None:
        connection = self._listener
        if connection is None:
            raise BusUnavailableError("not connected")
        while True:
            async for notice in connection.notifies(timeout=self._heartbeat):
                channel, separator, payload = notice.payload.partition("\n")
                if separator:  # a NOTIFY of another program on our channel has no envelope
                    self._dispatch(channel, payload)
            # A quiet connection may be a dead one (no FIN after a network cut): ask.
            async with asyncio.timeout(self._heartbeat):
                await connection.execute("SELECT 1")

    async def _add(self, channel: str) -> None:
        """Nothing to tell the server: every event reaches every process (see above)."""

    async def _added(self, channel: str) -> None:
        """Nothing is ever on its way."""

    async def _remove(self, channel: str) -> None:
        """Nothing to tell the server."""

    async def _drop(self) -> None:
        connection, self._listener = self._listener, None
        if connection is not None:
            with contextlib.suppress(Exception):  # it is being thrown away
                await connection.close()

    # -- publishing -------------------------------------------------------------------

    async def _send(self, channel: str, payload: str) -> None:
        await self._notify([_envelope(channel, payload)])

    async def _notify(self, envelopes: list[str]) -> None:
        """NOTIFY each envelope, in order, in one autocommitted statement."""
        # unnest yields the array in order, and NOTIFY keeps the order of its calls.
        query = "SELECT pg_notify(%s, envelope) FROM unnest(%s::text[]) AS envelope"
        async with self._publish_lock:
            for attempt in (1, 2):
                try:
                    if self._publisher is None or self._publisher.closed:
                        self._publisher = await self._open()
                    await self._publisher.execute(query, (self._pg_channel, envelopes))
                    return
                except psycopg.Error as error:
                    await self._close_publisher()
                    if attempt == 1 and isinstance(error, _ENDED_BEFORE_QUERY):
                        continue
                    channel = envelopes[0].partition("\n")[0]
                    raise BusUnavailableError(
                        f"PostgreSQL did not take the event on {channel}: {error}"
                    ) from error

    async def _send_many(self, events: list[tuple[str, str]]) -> None:
        # One statement per run of distinct events: PostgreSQL merges equal notifications
        # of one transaction, and these must each arrive.
        for group in _distinct_runs([_envelope(channel, payload) for channel, payload in events]):
            try:
                await self._notify(group)
            except BusUnavailableError as error:
                logger.warning("event bus postgres: dropped %d events: %s", len(group), error)

    async def _close_publisher(self) -> None:
        connection, self._publisher = self._publisher, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    def _unavailable(self, error: BaseException) -> str:
        detail = str(error).strip() or type(error).__name__
        return (
            f"Cannot LISTEN on PostgreSQL at {mask_url_password(self._dsn)} for events "
            f"({detail}). Check OPENVISIT_DATABASE_URL, or set OPENVISIT_EVENT_BUS."
        )


def _envelope(channel: str, payload: str) -> str:
    return f"{channel}\n{payload}"


def _distinct_runs(envelopes: list[str]) -> list[list[str]]:
    """Split into consecutive runs in which no envelope repeats, keeping the order."""
    runs: list[list[str]] = [[]]
    seen: set[str] = set()
    for envelope in envelopes:
        if envelope in seen:
            runs.append([])
            seen.clear()
        runs[-1].append(envelope)
        seen.add(envelope)
    return [run for run in runs if run]
