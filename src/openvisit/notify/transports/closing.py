"""Seeing closed connections out: waiting until a closed transport has let go of its socket.

Closing an asyncio transport only starts its end. A plain one releases its socket a loop
turn later; a TLS one first sends its close_notify and waits for the server's, for up to
asyncio's SSL shutdown timeout (30 s). An event loop that ends meanwhile (asyncio.run
returning right after the dispatcher's stop) leaves the transport to the garbage
collector, which closes the socket whenever it runs and warns "unclosed transport" there.

aiosmtplib forgets a transport the moment it asked it to close, so `ClosingTransports`
adopts it: it stands in as the transport's protocol (passing everything on to the one it
replaces), hears connection_lost, which asyncio calls as the socket is closed, and aborts
what has not ended within a bound.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

log = logging.getLogger(__name__)

# An aborted transport closes its socket in a callback one or two loop turns later; this
# only bounds the wait should one never report it.
ABORTED_SECONDS: Final = 0.5


class ClosingTransports:
    """Transports that are being closed, until each has closed its socket.

    Belongs to one event loop, like the transports it watches.
    """

    def __init__(self) -> None:
        self._watched: dict[asyncio.BaseTransport, asyncio.Future[None]] = {}

    def adopt(self, transport: asyncio.BaseTransport | None) -> None:
        """Watch `transport`, which its owner closes now (before or after this call),
        until its socket is closed."""
        if transport is None or transport in self._watched or _socket_closed(transport):
            return
        gone = asyncio.get_running_loop().create_future()
        transport.set_protocol(_Watcher(transport.get_protocol(), gone))
        self._watched[transport] = gone
        # A long-lived pool replaces connections for days: forget each one as it goes.
        gone.add_done_callback(lambda _: self._watched.pop(transport, None))

    async def wait_closed(self, bound: float) -> None:
        """Wait up to `bound` seconds until every adopted transport has closed its socket,
        then abort the rest (also when cancelled) and see them go too."""
        watched = dict(self._watched)
        if not watched:
            return
        try:
            await asyncio.wait(watched.values(), timeout=bound)
        finally:
            late = [gone for transport, gone in watched.items() if _abort_if_open(transport, gone)]
        if late:
            log.info(
                "%d closing connection(s) had not ended within %g s: aborted", len(late), bound
            )
            await asyncio.wait(late, timeout=ABORTED_SECONDS)


def _abort_if_open(transport: asyncio.BaseTransport, gone: asyncio.Future[None]) -> bool:
    if gone.done():
        return False
    if isinstance(transport, asyncio.WriteTransport):
        transport.abort()  # a TLS transport gives up its close_notify and closes the socket
    else:
        transport.close()
    return True


def _socket_closed(transport: asyncio.BaseTransport) -> bool:
    # A plain transport keeps its (closed) socket object; a TLS one drops its link to it.
    sock = transport.get_extra_info("socket")
    return sock is None or sock.fileno() < 0


class _Watcher(asyncio.Protocol):
    """Stands in for a closing transport's protocol: passes on what the transport still
    reports and resolves `gone` at connection_lost, as the transport lets go of its socket."""

    def __init__(self, protocol: asyncio.BaseProtocol, gone: asyncio.Future[None]) -> None:
        self._protocol = protocol
        self._gone = gone

    def data_received(self, data: bytes) -> None:
        if isinstance(self._protocol, asyncio.Protocol):
            self._protocol.data_received(data)

    def eof_received(self) -> bool | None:
        if isinstance(self._protocol, asyncio.Protocol):
            return self._protocol.eof_received()
        return None

    def pause_writing(self) -> None:
        self._protocol.pause_writing()

    def resume_writing(self) -> None:
        self._protocol.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            if not self._gone.done():
                self._gone.set_result(None)
