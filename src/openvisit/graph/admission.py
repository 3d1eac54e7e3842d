"""Admission control for booking writes: answer 503 early instead of queueing for seconds.

A booking holds a database write lock for a moment; past the rate the database can take,
more concurrent bookings only wait longer. Without a bound, every request is accepted
and waits for a worker thread, so under overload every caller's latency grows with the
queue until clients time out and retry on top of it. Here each worker process lets
`concurrency` booking requests run and `queue` more wait (in arrival order); a request
beyond that gets 503 with Retry-After in Graph's error envelope at once, which Graph
clients (msgraph-sdk's retry handler among them) retry after the given delay.

Only the writes that book or release capacity are limited (POST and PATCH of
appointments, cancel); reads and the rest of the API go straight through. The limiter
sits in front of routing, so a refused request costs no thread and no database work.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from openvisit.graph.errors import error_response
from openvisit.ratelog import RateLimitedLog

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
# Paths as GraphPathMiddleware leaves them: canonical segment names, ids as sent.
_APPOINTMENTS = r"^/(?:v1\.0|beta)/solutions/bookingBusinesses/[^/]+/appointments"
_LIMITED = {
    "POST": re.compile(_APPOINTMENTS + r"(?:/[^/]+/cancel)?/?$"),
    "PATCH": re.compile(_APPOINTMENTS + r"/[^/]+/?$"),
}


def is_booking_write(method: str, path: str) -> bool:
    pattern = _LIMITED.get(method)
    return pattern is not None and pattern.match(path) is not None


class AdmissionLimiter:
    """`concurrency` holders at once and at most `queue` waiting, first come first served.

    Lives on one event loop (one per worker process). `try_acquire` and `release` need no
    loop, so a test can hold slots from outside the server.
    """

    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def try_acquire(self) -> bool:
        """Take a slot if one is free and nobody waits for it; never waits."""
        if self.active < self.concurrency and not self._waiters:
            self.active += 1
            return True
        return False

    async def acquire(self) -> bool:
        """Take a slot, waiting in line if the line is short enough; False if it is not."""
        if self.try_acquire():
            return True
        if len(self._waiters) >= self.queue:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif not waiter.cancelled():
                self.release()  # the slot was handed over just as the caller went away
            raise
        return True

    def release(self) -> None:
        """Hand the slot to the first waiter still waiting, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.get_loop().call_soon_threadsafe(_hand_over, waiter, self)
                return
        self.active -= 1


def _hand_over(waiter: asyncio.Future[None], limiter: AdmissionLimiter) -> None:
    if waiter.done():  # cancelled meanwhile: pass the slot on
        limiter.release()
    else:
        waiter.set_result(None)


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, limiter: AdmissionLimiter) -> None:
        self.app = app
        self.limiter = limiter
        self.refused_log = RateLimitedLog(
            logger, "Refused %d booking requests: too many in flight and waiting"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_booking_write(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        if not await self.limiter.acquire():
            self.refused_log.event()
            response = error_response(
                Request(scope),
                "bookingQueueFull",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                seconds=RETRY_AFTER_SECONDS,
            )
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limiter.release()
