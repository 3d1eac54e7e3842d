"""Headers every response carries, whichever router, handler or error page made it.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware: it only edits the
response's start message, so it adds no task or buffering to the API's hot path.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openvisit.web.rendering import CONTENT_SECURITY_POLICY

_NOSNIFF = (b"x-content-type-options", b"nosniff")
_CSP = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())


class SecurityHeadersMiddleware:
    """`X-Content-Type-Options: nosniff` on every response, and the pages' policy on any
    HTML response that did not set one (so no HTML page, whoever renders it, goes out
    without a Content-Security-Policy)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _secured(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secured(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    names = {name.lower(): value for name, value in headers}
    if _NOSNIFF[0] not in names:
        headers.append(_NOSNIFF)
    if names.get(b"content-type", b"").startswith(b"text/html") and _CSP[0] not in names:
        headers.append(_CSP)
    return headers
