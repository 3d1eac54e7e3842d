"""Run one request of a JSON batch through the whole app, in process, as if sent alone.

An inner request is a new ASGI `http` scope handed to the app's outermost layer, so it
meets every middleware (request id and access log, token check before the body, NUL
check, body cap, path normalization, admission control for booking writes), its route's
`Require` and body validation, and the error envelope, exactly as a direct call would:
there is no second code path for anything a request does. The response is captured
from the `send` messages instead of going to a socket.

What the inner request inherits from the batch is what Graph documents or what only the
connection knows: the batch's `Authorization` (Graph authorizes every request of a
batch with the batch's token), the connection's peer, scheme and the forwarding headers
a trusted proxy added (so addresses and throttling see the real client, and a client
cannot claim another address from inside a batch), and the batch's `client-request-id`
unless the inner request names its own.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from starlette.types import ASGIApp, Message, Receive, Scope

# request.state key that marks a request made from inside a batch: batches do not nest.
IN_BATCH = "in_batch"
# Taken from the batch, never from an inner request's own headers.
_FROM_BATCH = frozenset(
    {b"authorization", b"host", b"x-forwarded-for", b"x-forwarded-proto", b"forwarded"}
)
# Set by the dispatcher itself, or meaningless without a connection of its own.
_NOT_FORWARDED = frozenset(
    {b"content-length", b"transfer-encoding", b"connection", b"keep-alive", b"origin"}
)
# Response headers about the connection or the browser, not about the inner response.
_NOT_RETURNED = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "date",
        "server",
        "x-content-type-options",
    }
)
# Graph's spelling of the response headers a client reads by name; others are
# capitalized per word ("Retry-After"). Graph sends request-id in lower case.
_SPELLING = {
    "etag": "ETag",
    "odata-version": "OData-Version",
    "request-id": "request-id",
    "client-request-id": "client-request-id",
}
# Everything printable but the space stays as written; the rest is percent-encoded,
# as an HTTP client would before putting the URL on the wire.
_URL_SAFE = "".join(chr(code) for code in range(33, 127))


@dataclass(frozen=True)
class InnerRequest:
    method: str
    target: str  # relative to the version root: "/solutions/..." or "solutions/...?$top=1"
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""


@dataclass
class InnerResponse:
    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    def graph_headers(self) -> dict[str, str]:
        """Response headers as a batch response item carries them: one value per name."""
        found: dict[str, str] = {}
        for raw_name, raw_value in self.headers:
            name = raw_name.decode("latin-1").lower()
            if name in _NOT_RETURNED:
                continue
            spelled = _SPELLING.get(name) or "-".join(
                part[:1].upper() + part[1:] for part in name.split("-")
            )
            value = raw_value.decode("latin-1")
            found[spelled] = f"{found[spelled]}, {value}" if spelled in found else value
        return found

    def graph_body(self) -> Any:
        """The body as Graph puts it in a batch: JSON as JSON, anything else base64."""
        if not self.body:
            return None
        content_type = dict(self.headers).get(b"content-type", b"").decode("latin-1").lower()
        if is_json_media_type(content_type):
            return json.loads(self.body)
        return base64.b64encode(bytes(self.body)).decode("ascii")


def is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def dispatch(
    app: ASGIApp, batch_scope: Scope, batch_receive: Receive, version: str, inner: InnerRequest
) -> InnerResponse:
    """Send `inner` through `app` as a request of its own and capture what it answers."""
    scope = _inner_scope(batch_scope, version, inner)
    response = InnerResponse()
    body_sent = False

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": inner.body, "more_body": False}
        # Past the body, a handler only listens for the client going away: the batch's
        # client is the one that can.
        return await batch_receive()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            response.status = int(message["status"])
            response.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            response.body += message.get("body", b"")

    await app(scope, receive, send)
    return response


def _inner_scope(batch_scope: Scope, version: str, inner: InnerRequest) -> Scope:
    target = quote(inner.target.partition("#")[0], safe=_URL_SAFE)
    raw_path, _, query = f"/{version}/{target.lstrip('/')}".partition("?")
    inherited = [(name, value) for name, value in batch_scope["headers"] if name in _FROM_BATCH]
    if not any(name == b"client-request-id" for name, _ in inner.headers):
        inherited += [
            (name, value) for name, value in batch_scope["headers"] if name == b"client-request-id"
        ]
    own = [
        (name, value)
        for name, value in inner.headers
        if name not in _FROM_BATCH and name not in _NOT_FORWARDED
    ]
    length = [(b"content-length", str(len(inner.body)).encode())] if inner.body else []
    return {
        "type": "http",
        "asgi": batch_scope.get("asgi", {"version": "3.0"}),
        "http_version": batch_scope.get("http_version", "1.1"),
        "method": inner.method,
        "scheme": batch_scope.get("scheme", "http"),
        "server": batch_scope.get("server"),
        "client": batch_scope.get("client"),
        "root_path": batch_scope.get("root_path", ""),
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("ascii"),
        "query_string": query.encode("ascii"),
        "headers": inherited + own + length,
        "state": {IN_BATCH: True},
    }
