"""Connection guards for uvicorn: a request-read timeout and a per-worker connection cap.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) but has no timeout for a
client that connects and then sends nothing, or half a request: such a connection holds
a file descriptor forever, and a few thousand of them exhaust the process's file limit,
after which the event loop stops accepting anyone. uvicorn's `limit_concurrency` does not
help: it answers 503 only once a request's headers arrive, so silent sockets are never
refused, and it counts those silent sockets against the limit, refusing real clients.

We subclass uvicorn's own httptools protocol (set through `uvicorn.Config(http=...)`)
rather than put a proxy in front or switch servers: the protocol object is where the
connection and parser events are, the subclass only adds timers and bookkeeping around
uvicorn's methods, and gunicorn's uvicorn worker or hypercorn would change far more of how
we run for the one timeout. The class is pinned to the uvicorn version in the lock file.

- Reading a request (from the connection's first moment, or the first byte of a
  keep-alive request, until its body is complete) must finish within the header
  timeout, or the connection is closed.
- At most `max_connections` connections per worker, WebSockets included, with the soft
  file limit raised to hold them. A new connection beyond that closes
  the connection that has waited longest for a request (never one whose request the app
  is handling), as nginx reuses idle connections: a flood of silent sockets then costs
  the flooder its own sockets, not a real client its answer. When every connection has a
  request in the app, the newcomer gets a 503 in Graph's error envelope with Retry-After.
  Both are logged at most once per ratelog.LOG_INTERVAL_SECONDS with a count.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import uuid
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from openvisit.graph.errors import envelope
from openvisit.ratelog import RateLimitedLog
from openvisit.reasons import REASONS, message

logger = logging.getLogger("uvicorn.error")

# File descriptors kept free of connections: database files, logs, the listening socket.
FD_RESERVE = 64
# Every WebSocket is a connection, and one worker holds a waiting room of thousands: 10,000
# idle ones take about 250 MiB (docs/performance.md#websocket-connections).
DEFAULT_MAX_CONNECTIONS = 10_000
RETRY_AFTER_SECONDS = 1
TOO_MANY = "tooManyConnections"


@dataclass(frozen=True)
class ConnectionLimits:
    """Plain values, so the multi-worker path can hand them to spawned workers."""

    header_timeout: float = 10.0
    keepalive_timeout: float = 5.0
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    def effective_max_connections(self) -> int:
        """The cap, once this process's file limit is raised to hold it.

        The soft limit is raised up to the hard one (systemd's default is a soft 1024 under
        a hard 524288, for programs that need more to raise themselves); the cap is lowered
        to fit, with a warning, only when even the hard limit is too low.
        """
        soft = raise_file_limit(self.max_connections + FD_RESERVE)
        if soft == resource.RLIM_INFINITY or self.max_connections <= soft - FD_RESERVE:
            return self.max_connections
        lowered = max(1, soft - FD_RESERVE)
        logger.warning(
            "OPENVISIT_MAX_CONNECTIONS=%d does not fit under the file limit %d; using %d",
            self.max_connections,
            soft,
            lowered,
        )
        return lowered

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for uvicorn.Config / uvicorn.run."""
        return {
            "http": guarded_protocol(self),
            "timeout_keep_alive": self.keepalive_timeout,
        }


def raise_file_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards `needed`, never past the hard limit.

    Returns the soft limit in force afterwards.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    wanted = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
    if wanted <= soft:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):  # a sandbox may refuse even this
        return soft
    return wanted


def _refusal() -> bytes:
    # Answered by the protocol, before the app: no request id was given, so make one.
    body = json.dumps(
        envelope(
            REASONS[TOO_MANY].code,
            message(TOO_MANY),
            request_id=str(uuid.uuid4()),
            reason=TOO_MANY,
        )
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        f"retry-after: {RETRY_AFTER_SECONDS}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits: ConnectionLimits = ConnectionLimits()
    max_connections: int = ConnectionLimits().max_connections
    # Connections with no request in the app, longest-waiting first (dicts keep order):
    # finding the one to close is O(1) even with thousands of sockets arriving.
    waiting: dict[GuardedHttpToolsProtocol, None] = {}  # one per class guarded_protocol makes
    refused_log = RateLimitedLog(logger, "Refused %d connections beyond OPENVISIT_MAX_CONNECTIONS")
    evicted_log = RateLimitedLog(logger, "Closed %d idle connections to admit new ones")
    timeout_log = RateLimitedLog(
        logger, "Closed %d connections that sent no complete request in time"
    )

    _read_timer: asyncio.TimerHandle | None = None
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_read_timer()
        if len(self.connections) > self.max_connections and not self._evict_one():
            # Answered once the request's headers are in (closing at once could reset the
            # connection before the client reads the answer); it may be evicted meanwhile.
            self._refused = True
            self.refused_log.event()
        self.waiting[self] = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_timer()
        self.waiting.pop(self, None)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._read_timer is None:
            self._arm_read_timer()

    def on_headers_complete(self) -> None:
        if self._refused:
            self._cancel_read_timer()
            self.waiting.pop(self, None)
            self.transport.write(_refusal())
            self.transport.close()
            return
        self.waiting.pop(self, None)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel_read_timer()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # A WebSocket counts against the cap like any connection (the waiting room holds
        # thousands). A refused upgrade has had its 503 and its transport is closing: the
        # parser still reports the upgrade, and handing the request on would fail on a
        # scope that on_headers_complete never filled (a traceback per refusal).
        if self._refused:
            return
        super().handle_websocket_upgrade()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle.response_complete:  # none pipelined
            self.waiting[self] = None

    def _evict_one(self) -> bool:
        """Close the connection that has waited longest for a request, if there is one."""
        for oldest in self.waiting:
            del self.waiting[oldest]
            oldest.transport.close()
            self.connections.discard(oldest)
            self.evicted_log.event()
            return True
        return False

    def _arm_read_timer(self) -> None:
        self._read_timer = self.loop.call_later(self.limits.header_timeout, self._read_timed_out)

    def _cancel_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing():
            self.timeout_log.event()
            self.transport.close()


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """A protocol class bound to `limits`; uvicorn instantiates it per connection."""
    return type(
        "OpenVisitHttpProtocol",
        (GuardedHttpToolsProtocol,),
        {
            "limits": limits,
            "max_connections": limits.effective_max_connections(),
            "waiting": {},
        },
    )
