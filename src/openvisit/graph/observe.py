"""Request ids, the access log and the last word on unhandled errors, for every request.

A pure ASGI middleware, added last in app.py so it wraps every other one:

- Each request gets a `request-id` (Graph's name), set in a context variable for the log
  lines it causes and in `request.state` for the error envelope, and sent back with the
  caller's `client-request-id` (or the request id when none was sent) on every response.
- One access-log line per request, written by us instead of uvicorn: uvicorn's prints
  the query string, and `$filter`/`query` values name people and `access_token`
  parameters are credentials. Only the parameter names are kept.
- An exception no handler took is logged once, with its traceback, and answered with a
  500 in the Graph envelope. It is not re-raised: Starlette's ServerErrorMiddleware
  would raise it on to uvicorn, which logs a second traceback and closes the keep-alive
  connection, so a client's next request on it failed.
"""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openvisit.graph.errors import error_response
from openvisit.logs import request_id_var, without_query_values

logger = logging.getLogger("openvisit.errors")
access_logger = logging.getLogger("openvisit.access")

MAX_CLIENT_REQUEST_ID = 100


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        try:
            if scope["type"] == "http":
                await self._http(scope, receive, send, request_id)
            else:
                await self.app(scope, receive, send)
        finally:
            request_id_var.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        client_request_id = _client_request_id(Headers(scope=scope)) or request_id
        status = 0
        started = time.perf_counter()

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["request-id"] = request_id
                headers["client-request-id"] = client_request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        except Exception:
            logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if status == 0:
                response = error_response(Request(scope), "unexpectedError")
                await response(scope, receive, send_with_ids)
            # A response already under way cannot become a 500; uvicorn ends it.
        finally:
            access_logger.info(
                "%s %s %s %.1fms",
                scope["method"],
                logged_target(scope),
                status or "-",
                (time.perf_counter() - started) * 1000,
            )


def logged_target(scope: Scope) -> str:
    """The path with the query string's names only: `/x?$filter&$top`."""
    query = scope.get("query_string", b"").decode("latin-1")
    return without_query_values(f"{scope.get('path', '')}?{query}" if query else scope["path"])


def _client_request_id(headers: Headers) -> str | None:
    """The caller's correlation id, if it is a short printable token."""
    value = headers.get("client-request-id", "")[:MAX_CLIENT_REQUEST_ID]
    if value and all(33 <= ord(char) < 127 for char in value):
        return value
    return None
