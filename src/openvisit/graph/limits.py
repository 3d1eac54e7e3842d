"""Refuse request bodies larger than the API ever needs, before reading them whole.

The largest legitimate Bookings body (a service with every property at its limit) is a
few hundred kilobytes; a cap keeps a single client from making the server buffer
gigabytes. Both a declared Content-Length and a chunked stream are checked.

Uploads (documents before the visit) need more: a POST to one of the `uploads` paths may
carry the store's own limit (`DocumentStore.max_request_bytes`, from the settings), read
from the running runtime per request so it follows the configuration. A larger body is
refused the same way (or, for a web page, by the page's own `refuse`), and a stream that
grows past the cap stops the handler reading it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openvisit.graph.errors import error_response
from openvisit.graph.paths import normalize_path

MAX_BODY_BYTES = 1_048_576


class BodyTooLarge(Exception):
    """Raised into the handler reading a body past the cap; answered 413 below."""


@dataclass(frozen=True)
class UploadPath:
    """POSTs to paths `pattern` matches (after Graph's normalization) may carry an upload.

    `refuse(request, limit)` answers a body over the cap; None means the API's envelope.
    """

    pattern: re.Pattern[str]
    refuse: Callable[[Request, int], Response] | None = None


class BodySizeLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        uploads: Sequence[UploadPath] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = tuple(uploads)

    def upload_path(self, scope: Scope) -> UploadPath | None:
        if scope["method"] != "POST" or not self.uploads:
            return None
        path = normalize_path(scope["path"])
        return next((up for up in self.uploads if up.pattern.fullmatch(path)), None)

    def limit(self, scope: Scope, upload: UploadPath | None) -> int:
        """The cap for this request: the upload limit on an upload path, else the API's."""
        if upload is None:
            return self.max_bytes
        upload_bytes: int = scope["app"].state.runtime.documents.max_request_bytes
        return upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self.upload_path(scope)
        max_bytes = self.limit(scope, upload)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await self._refuse(scope, receive, send, upload, max_bytes)
            return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            # Past the cap the handler gets an error instead of more body; whatever it
            # answers is replaced below.
            nonlocal received, too_large
            if too_large:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    too_large = True
                    raise BodyTooLarge
            return message

        started = refused = False

        async def guarded_send(message: Message) -> None:
            nonlocal refused, started
            if too_large and message["type"] == "http.response.start":
                refused = True
                await self._refuse(scope, receive, send, upload, max_bytes)
            elif not refused:
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if started or refused:  # pragma: no cover - a handler that answered mid-body
                raise
            await self._refuse(scope, receive, send, upload, max_bytes)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, upload: UploadPath | None, limit: int
    ) -> None:
        request = Request(scope)
        if upload is not None and upload.refuse is not None:
            response = upload.refuse(request, limit)
        else:
            response = error_response(request, "bodyTooLarge", limit=limit)
        await response(scope, receive, send)
