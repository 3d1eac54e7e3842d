"""The WebSocket route `/realtime/v1`: hello, then frames, per docs/realtime-protocol.md.

Thin on purpose: it parses, authorizes (a join token, or the staff sign-in cookie with
this server's Origin), calls the meetings services in worker threads and hands the
connection to the hub. The connection's state machine (connection.py) decides which
frames are allowed; everything a participant is lives in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from openvisit.addresses import client_address
from openvisit.auth.sessions import SESSION_COOKIE, signed_in_user
from openvisit.auth.users import UserView
from openvisit.logs import request_id_var
from openvisit.meetings import board, snapshots, visits
from openvisit.meetings.access import Entrant, JoinRefused, check_join_link, check_staff_access
from openvisit.meetings.server_leases import LeaseLost
from openvisit.meetings.visits import VisitRefused
from openvisit.realtime import protocol
from openvisit.realtime.connection import Connection, State
from openvisit.realtime.hub import Hub
from openvisit.runtime import Runtime

logger = logging.getLogger(__name__)
PATH = "/realtime/v1"
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Timers and bounds of the real-time endpoint; tests shorten them."""

    hello_seconds: float = 10.0
    heartbeat_seconds: float = 20.0
    missed_heartbeats: int = 3  # silent this many intervals: closed 4408
    connections_per_address: int = 50
    close_wait_seconds: float = 5.0


class Closed(Exception):
    """Stop serving this connection, closing it with `code` after an optional error."""

    def __init__(self, code: int, error: str | None = None, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.error = error
        self.message = message


def is_realtime(scope: Scope) -> bool:
    """Whether this ASGI scope is a WebSocket to the real-time endpoint."""
    if scope["type"] != "websocket":
        return False
    path: str = scope["path"]
    root = scope.get("root_path") or ""
    return path.startswith(root) and path[len(root) :] == PATH


async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """The endpoint as a bare ASGI app, which the application calls before its middleware.

    A waiting room holds thousands of these connections for minutes each, and every
    layer of the HTTP stack (eleven middlewares, routing, exception wrappers) would keep a
    suspended frame of its own per connection, about a fifth of the memory budget, for
    nothing: they act on HTTP requests and pass WebSockets through. What the outermost one
    gives a WebSocket, a request id for the logs, is given here.
    """
    token = request_id_var.set(str(uuid.uuid4()))
    try:
        await serve(WebSocket(scope, receive, send))
    finally:
        request_id_var.reset(token)


def hub_of(app: ASGIApp) -> Hub:
    """This app's hub, for the runtime it serves now (tests swap runtimes)."""
    state = app.state  # type: ignore[attr-defined]
    runtime: Runtime = state.runtime
    hub: Hub | None = getattr(state, "realtime_hub", None)
    if hub is None or hub.runtime is not runtime:
        hub = Hub(runtime, runtime.events)
        state.realtime_hub = hub
    return hub


def limits_of(app: ASGIApp) -> Limits:
    found = getattr(app.state, "realtime_limits", None)  # type: ignore[attr-defined]
    return found if isinstance(found, Limits) else Limits()


_per_address: Counter[str] = Counter()


async def serve(websocket: WebSocket) -> None:
    hub = hub_of(websocket.app)
    limits = limits_of(websocket.app)
    address = _address(websocket, hub.runtime)
    await websocket.accept()
    if _per_address[address] >= limits.connections_per_address:
        await _refuse(websocket, Closed(4429, "tooManyConnections", "Too many connections."))
        return
    _per_address[address] += 1
    try:
        await _serve(websocket, hub, limits)
    finally:
        _per_address[address] -= 1
        if _per_address[address] <= 0:
            del _per_address[address]


async def _serve(websocket: WebSocket, hub: Hub, limits: Limits) -> None:
    connection = Connection(
        "c_" + secrets.token_urlsafe(12),
        websocket.send_text,
        websocket.close,
        asyncio.get_running_loop(),
    )
    try:
        # No local keeps the hello (a join token and more) for the connection's life.
        await _welcome(websocket, hub, limits, connection, await _hello(websocket, limits))
    except Closed as closed:
        await _refuse(websocket, closed)
        return
    try:
        await _run(websocket, hub, limits, connection)
    finally:
        # Shielded: a server shutting down cancels us, and the stretch must still close.
        with anyio.CancelScope(shield=True):
            await _leave(hub, connection)


async def _leave(hub: Hub, connection: Connection) -> None:
    await hub.unregister(connection)
    presence = connection.presence
    if presence is not None and presence.place in ("lobby", "call"):
        runtime = hub.runtime
        await _thread(
            lambda: visits.leave(runtime.db, runtime.clock, hub.publish_threadsafe, presence)
        )


async def _refuse(websocket: WebSocket, closed: Closed) -> None:
    with contextlib.suppress(Exception):  # the client may be gone already
        if closed.error is not None:
            await websocket.send_text(
                protocol.encode(protocol.ErrorFrame(code=closed.error, message=closed.message))
            )
        await websocket.close(closed.code, closed.message[:120])


# --- hello ------------------------------------------------------------------------------


async def _hello(websocket: WebSocket, limits: Limits) -> protocol.Hello:
    try:
        text = await asyncio.wait_for(_receive_text(websocket), limits.hello_seconds)
    except TimeoutError:
        raise Closed(4408, "helloTimeout", "No hello in time.") from None
    if text is None:
        raise Closed(1000)
    frame = _decode(text)
    if not isinstance(frame, protocol.Hello):
        raise Closed(4400, "protocolError", "The first frame must be hello.")
    if frame.v != protocol.VERSION:
        raise Closed(4426, "unsupportedVersion", "This protocol version is not served: reload.")
    if sum((frame.join is not None, frame.meeting is not None, bool(frame.board))) != 1:
        raise Closed(4400, "protocolError", "hello needs exactly one of join, meeting, board.")
    return frame


def _decode(text: str) -> protocol.ClientFrame:
    try:
        return protocol.decode(text)
    except protocol.ProtocolError as error:
        raise Closed(4400, "protocolError", error.message) from None


FORBIDDEN = Closed(4403, "forbidden", "This link or sign-in does not open this visit.")
# This process lost its server lease (server_leases.py): the client reconnects at once.
RESTARTING = Closed(1012, None, "server restarting")


async def _welcome(
    websocket: WebSocket, hub: Hub, limits: Limits, connection: Connection, hello: protocol.Hello
) -> None:
    runtime = hub.runtime
    if hello.board:
        user = await _staff_user(websocket, runtime)
        await _welcome_board(hub, limits, connection, user)
        return
    entrant = await _entrant(websocket, runtime, connection, hello)
    await hub.start()
    try:
        server_instance_id = await hub.lease.current()
        presence = await _thread(
            lambda: visits.enter(
                runtime.db,
                runtime.clock,
                hub.publish_threadsafe,
                entrant,
                connection.connection_id,
                guest_name=hello.name,
                server_instance_id=server_instance_id,
            )
        )
    except JoinRefused:
        raise FORBIDDEN from None
    except LeaseLost:
        raise RESTARTING from None
    connection.presence = presence
    connection.state = {"lobby": State.LOBBY, "call": State.CALL}.get(presence.place, State.CLOSED)
    if connection.state != State.CLOSED:
        await hub.register(connection)
        if not hub.lease.holds(server_instance_id):  # reaped meanwhile: its row is closed
            await hub.unregister(connection)
            raise RESTARTING
    last_chat = hello.resume.last_chat_id if hello.resume else None
    view = await _thread(
        lambda: snapshots.snapshot(runtime.db, runtime.clock, presence, last_chat_id=last_chat)
    )
    await hub.placed(connection, view["state"])
    connection.welcome(
        protocol.Welcome(
            connection_id=connection.connection_id,
            heartbeat_seconds=limits.heartbeat_seconds,
            you={
                "participantId": presence.participant_id,
                "role": presence.role,
                "displayName": presence.display_name,
            },
            rtc_configuration=dict(runtime.rtc_configuration(presence.participant_id)),
            snapshot=view,
        )
    )
    if view["state"] == "denied":
        connection.push(protocol.DeniedFrame())
        connection.close(4410, "denied")
    elif view["state"] == "ended":
        connection.push(protocol.EndedFrame())
        connection.close(4410, "ended")


async def _welcome_board(hub: Hub, limits: Limits, connection: Connection, user: UserView) -> None:
    runtime = hub.runtime
    day = await _thread(lambda: board.board_for(runtime.db, runtime.clock, user))
    connection.staff_user = user
    connection.board_staff_ids = day.staff_member_ids
    connection.board_meeting_ids = day.meeting_ids
    connection.state = State.BOARD
    await hub.register(connection)
    waiting_now = await _thread(
        lambda: snapshots.waiting_list(runtime.db, runtime.clock, day.meeting_ids)
    )
    connection.welcome(
        protocol.Welcome(
            connection_id=connection.connection_id,
            heartbeat_seconds=limits.heartbeat_seconds,
            you={"staffUserId": user.id, "role": "provider", "displayName": user.display_name},
            rtc_configuration=dict(runtime.rtc_configuration(f"staff:{user.id}")),
            snapshot={"board": day.view, "waiting": waiting_now},
        )
    )


async def _entrant(
    websocket: WebSocket, runtime: Runtime, connection: Connection, hello: protocol.Hello
) -> Entrant:
    try:
        if hello.join is not None:
            token = hello.join
            return await _thread(
                lambda: check_join_link(
                    runtime.db, secret_key=runtime.secret_key, token=token, now=runtime.clock.now()
                )
            )
        user = await _staff_user(websocket, runtime)
        meeting_id = hello.meeting or ""
        entrant = await _thread(
            lambda: check_staff_access(runtime.db, user=user, meeting_id=meeting_id)
        )
        connection.staff_user = user
        return entrant
    except JoinRefused:
        raise FORBIDDEN from None


async def _staff_user(websocket: WebSocket, runtime: Runtime) -> UserView:
    # The cookie rides on any page's WebSocket, so the page must be ours (no CSRF by socket).
    if websocket.headers.get("origin", "").rstrip("/").lower() != origin_of(runtime.base_url):
        raise FORBIDDEN
    cookie = websocket.cookies.get(SESSION_COOKIE)
    signed_in = await _thread(lambda: signed_in_user(runtime.db, runtime.clock, cookie))
    if signed_in is None:
        raise FORBIDDEN
    return signed_in.user


def origin_of(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _address(websocket: WebSocket, runtime: Runtime) -> str:
    peer = websocket.client.host if websocket.client else None
    forwarded = websocket.headers.getlist("x-forwarded-for")
    return client_address(peer, forwarded, runtime.trusted_proxies) or "unknown"


# --- the connection's life ------------------------------------------------------------


async def _run(websocket: WebSocket, hub: Hub, limits: Limits, connection: Connection) -> None:
    """Read the client's frames in this, the connection's own task, until it is done.

    No timeout wraps the read: the hub's heartbeat loop closes a silent connection, so an
    idle waiter costs no task or timer of its own.
    """
    connection.heard()
    hub.keep_alive(connection, limits)
    try:
        await _read_frames(websocket, hub, connection)
    finally:
        hub.forget(connection)
    if connection.closing:
        # A close was queued (error, leave, heartbeat): let what is before it be written.
        await connection.closed(limits.close_wait_seconds)
    connection.gone()


async def _read_frames(websocket: WebSocket, hub: Hub, connection: Connection) -> None:
    while not connection.closing:
        text = await _receive_text(websocket)
        if text is None:  # the client went away, or the close we sent came back
            return
        connection.heard()
        try:
            frame = protocol.decode(text)
        except protocol.ProtocolError as error:
            _protocol_error(connection, error.message, error.frame_id)
            return
        if not connection.accepts(frame.type):
            _protocol_error(connection, f"{frame.type} is not allowed now.", frame.id)
            return
        try:
            await handle(hub, connection, frame)
        except VisitRefused as refused:
            connection.push(
                protocol.ErrorFrame(code=refused.code, message=refused.message, id=frame.id)
            )
        del text, frame  # not kept alive while the connection idles until its next frame


def _protocol_error(connection: Connection, message: str, frame_id: str | None) -> None:
    connection.push(protocol.ErrorFrame(code="protocolError", message=message, id=frame_id))
    connection.close(4400, "protocol error")


async def _receive_text(websocket: WebSocket) -> str | None:
    """The next text frame; None when the client closed. A binary frame is an error."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    if text is None:
        return '{"type": "binary frames are not used"}'
    return str(text)


# --- frames -----------------------------------------------------------------------------


async def handle(hub: Hub, connection: Connection, frame: protocol.ClientFrame) -> None:
    """Do what one accepted client frame asks."""
    runtime = hub.runtime
    db, clock, publish = runtime.db, runtime.clock, hub.publish_threadsafe
    presence = connection.presence
    match frame:
        case protocol.Ping():
            connection.push(protocol.ServerPong(t=frame.t))
        case protocol.Pong():
            pass
        case protocol.Leave():
            connection.close(1000, "left")
        case protocol.SignalSend() if presence is not None:
            await hub.relay_signal(presence, frame)
        case protocol.ChatSend() if presence is not None:
            sent = await _thread(
                lambda: visits.send_chat(
                    db, clock, publish, presence, frame.text, frame.client_message_id
                )
            )
            connection.push(protocol.Ack(id=frame.id, chat_id=sent.chat_id))
        case protocol.Media() if presence is not None:
            media = {"audio": frame.audio, "video": frame.video, "screen": frame.screen}
            await _thread(lambda: visits.set_media(db, publish, presence, media))
        case protocol.DeviceCheck() if presence is not None:
            result = frame.result.model_dump(by_alias=True)
            await _thread(lambda: visits.record_device_check(db, clock, publish, presence, result))
            connection.push(protocol.Ack(id=frame.id))
        case _:
            await _staff_frame(hub, connection, frame)


async def _staff_frame(hub: Hub, connection: Connection, frame: protocol.ClientFrame) -> None:
    runtime = hub.runtime
    db, clock, publish = runtime.db, runtime.clock, hub.publish_threadsafe
    user = connection.staff_user
    if user is None:  # pragma: no cover - the state table keeps these to staff
        raise VisitRefused("notAllowed", "Only staff may do this.")
    match frame:
        case protocol.Admit():
            await _thread(lambda: visits.admit(db, clock, publish, user, frame.participant_id))
        case protocol.Deny():
            await _thread(
                lambda: visits.deny(db, clock, publish, user, frame.participant_id, frame.message)
            )
        case protocol.ProviderStatus():
            meetings = _meetings_of(connection)
            await _thread(
                lambda: visits.set_provider_status(
                    db,
                    clock,
                    publish,
                    user,
                    meetings,
                    frame.state,
                    frame.late_minutes,
                    frame.message,
                )
            )
        case protocol.LobbyReply():
            sent = await _thread(
                lambda: visits.reply_in_lobby(
                    db,
                    clock,
                    publish,
                    user,
                    frame.participant_id,
                    frame.text,
                    frame.client_message_id,
                )
            )
            connection.push(protocol.Ack(id=frame.id, chat_id=sent.chat_id))
            return
        case protocol.Invite() if connection.meeting_id is not None:
            meeting_id = connection.meeting_id
            url = await _thread(
                lambda: visits.invite_guest(
                    db,
                    clock,
                    runtime.secret_key,
                    runtime.base_url,
                    user,
                    meeting_id,
                    frame.display_name,
                )
            )
            connection.push(protocol.Ack(id=frame.id, join_url=url))
            return
        case protocol.End() if connection.meeting_id is not None:
            meeting_id = connection.meeting_id
            await _thread(lambda: visits.end(db, clock, publish, user, meeting_id))
        case _:  # pragma: no cover - the state table lets nothing else through
            raise VisitRefused("notAllowed", f"{frame.type} is not allowed here.")
    connection.push(protocol.Ack(id=frame.id))


def _meetings_of(connection: Connection) -> list[str]:
    if connection.state == State.BOARD:
        return list(connection.board_meeting_ids)
    return [connection.meeting_id] if connection.meeting_id else []


async def _thread(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work)
