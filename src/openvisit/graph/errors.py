"""One mapping from failures to Graph's error envelope.

`{"error": {"code", "message", "innerError": {"code", "request-id", "date"}}}` is what the
Graph errors page documents and what msgraph-sdk turns into `ODataError`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openvisit.errors import DomainError, RetryLater

HTTP_CODES = {
    400: "badRequest",
    401: "InvalidAuthenticationToken",
    403: "accessDenied",
    404: "itemNotFound",
    405: "methodNotAllowed",
    406: "notAcceptable",
    409: "conflict",
    411: "lengthRequired",
    412: "preconditionFailed",
    413: "requestEntityTooLarge",
    415: "unsupportedMediaType",
    429: "activityLimitReached",
    501: "notImplemented",
    503: "serviceNotAvailable",
}


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
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    reason: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = envelope(
        code,
        message,
        request_id=request_id(request),
        reason=reason,
        client_request_id=request.headers.get("client-request-id"),
    )
    return JSONResponse(body, status_code=status, headers=headers)


def domain_error_response(request: Request, error: DomainError) -> JSONResponse:
    """A domain error as Graph answers it, with the header its status calls for."""
    headers = {"WWW-Authenticate": 'Bearer realm="openvisit"'} if error.status == 401 else None
    if isinstance(error, RetryLater):
        headers = {"Retry-After": str(error.retry_after_seconds)}
    return error_response(request, error.status, error.code, error.message, headers=headers)


def describe_validation_errors(errors: list[Any]) -> str:
    """Name the first offending field the way the client wrote it (camelCase path)."""
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "The request body is not valid JSON."
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    field = ".".join(location)
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        return f"The property '{field}' is required." if field else "A request body is required."
    if not field:
        return f"The request body is invalid: {message}"
    return f"Invalid value for '{field}': {message}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return domain_error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(
            request, 400, "badRequest", describe_validation_errors(list(error.errors()))
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(error.status_code, "badRequest")
        message = error.detail if isinstance(error.detail, str) else code
        if error.status_code == 404 and message == "Not Found":
            message = f"Resource not found for the segment '{request.url.path}'."
        return error_response(
            request, error.status_code, code, message, headers=getattr(error, "headers", None)
        )

    # Exceptions no handler takes are answered by graph/observe.py, which logs them once
    # and keeps the connection open.
