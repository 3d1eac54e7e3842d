"""One mapping from failures to Graph's error envelope.

`{"error": {"code", "message", "innerError": {"code", "request-id", "date"}}}` is what the
Graph errors page documents and what msgraph-sdk turns into `ODataError`. The top-level
`code` is Graph's; `innerError.code` is our reason (openvisit/reasons.py, docs/errors.md).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openvisit.errors import DomainError, RetryLater
from openvisit.reasons import GRAPH_CODES, REASONS, message


def request_id(request: Request) -> str:
    existing = getattr(request.state, "request_id", None)
    if existing is None:
        existing = str(uuid.uuid4())
        request.state.request_id = existing
    return str(existing)


def envelope(
    code: str,
    message: str,
    *,
    request_id: str,
    reason: str | None = None,
    client_request_id: str | None = None,
) -> dict[str, Any]:
    """Graph's error body; the one builder every refusal, in or outside the app, uses."""
    # The clock is not needed here: the date only tells a reader when the error happened.
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    inner = {"code": reason or code, "request-id": request_id, "date": now}
    if client_request_id:
        # Graph echoes the caller's correlation id so support can find the failed call.
        inner["client-request-id"] = client_request_id[:100]
    return {"error": {"code": code, "message": message, "innerError": inner}}


def error_response(
    request: Request, reason: str, *, headers: dict[str, str] | None = None, **params: object
) -> JSONResponse:
    """The answer for a refusal made outside a domain error (middleware, framework)."""
    entry = REASONS[reason]
    text = message(reason, **params)
    return _response(request, entry.status, entry.code, text, reason, headers)


def domain_error_response(request: Request, error: DomainError) -> JSONResponse:
    """A domain error as Graph answers it, with the header its status calls for."""
    headers = {"WWW-Authenticate": 'Bearer realm="openvisit"'} if error.status == 401 else None
    if isinstance(error, RetryLater):
        headers = {"Retry-After": str(error.retry_after_seconds)}
    return _response(request, error.status, error.code, error.message, error.reason, headers)


def _response(
    request: Request,
    status: int,
    code: str,
    text: str,
    reason: str,
    headers: dict[str, str] | None,
) -> JSONResponse:
    body = envelope(
        code,
        text,
        request_id=request_id(request),
        reason=reason,
        client_request_id=request.headers.get("client-request-id"),
    )
    return JSONResponse(body, status_code=status, headers=headers)


def validation_reason(errors: list[Any]) -> tuple[str, dict[str, object]]:
    """The reason for a body or query pydantic refused, naming the first offending field
    the way the client wrote it (camelCase path)."""
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "invalidJson", {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    field = ".".join(location)
    detail = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        return ("propertyRequired", {"property": field}) if field else ("bodyRequired", {})
    if not field:
        return "invalidBody", {"detail": detail}
    return "invalidProperty", {"property": field, "detail": detail}


_HTTP_REASONS = {404: "pathNotFound", 405: "methodNotAllowed"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return domain_error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        reason, params = validation_reason(list(error.errors()))
        entry = REASONS[reason]
        text = message(reason, **params)
        return _response(request, entry.status, entry.code, text, reason, None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        headers = getattr(error, "headers", None)
        reason = _HTTP_REASONS.get(error.status_code)
        if reason is not None and error.detail == HTTPStatus(error.status_code).phrase:
            return error_response(request, reason, headers=headers, path=request.url.path)
        # Starlette's other refusals (a malformed form, say) keep their status and words.
        status = error.status_code
        code = GRAPH_CODES.get(status, "badRequest")
        return _response(request, status, code, str(error.detail), "requestRefused", headers)

    # Exceptions no handler takes are answered by graph/observe.py, which logs them once
    # and keeps the connection open.
