"""This process's server lease (meetings/server_leases.py), kept while its hub runs.

Registered when the hub starts, then one loop renews it every RENEW_EVERY and sweeps
the presence rows of servers whose lease expired: at start-up (rows a crash left long
ago go at once) and on every round after. It is a loop of its own, not the hub's
heartbeat: that one runs only while this process holds connections, and a process
with none must still sweep, as its boards and the API show the ghosts too.

A lease found gone (this process was paused or cut off from the database for longer
than the expiry, and reaped) means its connections' rows are closed: they are closed
too (1012, the client reconnects) and the process carries on under a new lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from openvisit.meetings import server_leases
from openvisit.meetings.publishing import Publish
from openvisit.runtime import Runtime

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ServerLease:
    def __init__(self, runtime: Runtime, publish: Publish, lost: Callable[[], None]) -> None:
        self.runtime = runtime
        self._publish = publish
        self._lost = lost  # closes this process's connections: their rows are closed
        self._id: str | None = None
        self._renewed_at = runtime.clock.now()
        self._renewing = asyncio.Lock()
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register, sweep once, and keep renewing and sweeping until `stop`.

        A database that is away (or not migrated yet) does not stop the server from
        starting: /readyz says so, hellos are answered 1012 until the loop registers."""
        try:
            await self._register()
            await self.sweep()
        except Exception:  # the loop tries again
            logger.exception("registering this server's lease or sweeping failed")
        self._loop = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop renewing; close what this process still holds and drop the lease."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        held, self._id = self._id, None
        if held is not None:
            runtime = self.runtime
            await _thread(
                lambda: server_leases.retire(runtime.db, runtime.clock, self._publish, held)
            )

    def holds(self, server_instance_id: str) -> bool:
        """Whether rows written under this id are still this process's (not reaped)."""
        return server_instance_id == self._id

    async def current(self) -> str:
        """The lease to open presence rows under, renewed first if it is getting old
        (the clock moved on faster than the loop: a test's clock, a stalled loop)."""
        async with self._renewing:
            if self._id is None:  # registering failed at start: try now
                try:
                    await self._register()
                except Exception as error:
                    raise server_leases.LeaseLost("no lease: database away") from error
            elif self.runtime.clock.now() - self._renewed_at >= server_leases.RENEW_EVERY:
                await self._renew()
            if self._id is None:
                raise server_leases.LeaseLost("not started")
            return self._id

    async def sweep(self) -> int:
        """Close the rows of servers whose lease expired (never this one's)."""
        sweeper = self._id or ""
        runtime = self.runtime
        return await _thread(
            lambda: server_leases.reap(runtime.db, runtime.clock, self._publish, sweeper=sweeper)
        )

    async def _register(self) -> None:
        self._id = await _thread(
            lambda: server_leases.register(self.runtime.db, self.runtime.clock)
        )
        self._renewed_at = self.runtime.clock.now()

    async def _renew(self) -> None:
        held = self._id
        if held is None:  # registering failed at start
            await self._register()
            return
        now = self.runtime.clock.now()
        if await _thread(lambda: server_leases.renew(self.runtime.db, self.runtime.clock, held)):
            self._renewed_at = now
            return
        logger.error("this server's lease %s was reaped: its connections start over", held)
        self._lost()
        await self._register()

    async def _run(self) -> None:
        renewal_failed = False
        while True:
            await anyio.sleep(server_leases.RENEW_EVERY.total_seconds())
            try:
                async with self._renewing:
                    await self._renew()
            except Exception:  # the database is away: wait, then try again
                if not renewal_failed:
                    logger.exception("renewing this server's lease failed; retrying")
                renewal_failed = True
                continue
            # Just back from failing (the database was away, for everyone): the others
            # get one round to renew before anyone is taken for dead.
            if renewal_failed:
                renewal_failed = False
                continue
            try:
                await self.sweep()
            except Exception:
                logger.exception("sweeping the presence of stopped servers failed")


async def _thread(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work)
