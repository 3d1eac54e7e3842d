"""`GET /metrics` and the middleware that times every request (see docs/operations.md).

Off unless a scrape token or an address list is configured: behind a reverse proxy on the
same host every client looks like loopback, so "loopback only" would not keep it private.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openvisit import telemetry
from openvisit.graph.errors import error_response
from openvisit.graph.paths import VERSIONS, normalize_path
from openvisit.metrics_access import MetricsAccess

UNMATCHED = "unmatched"


def install(app: FastAPI, access: MetricsAccess) -> None:
    """Serve /metrics and time requests, when `access` lets anyone read the figures.

    Call after every other middleware is added, so the timing includes theirs.
    """
    if not access.enabled:
        return  # /metrics is then an ordinary 404, and nothing is timed
    telemetry.watch_pool(app.state.runtime.db.engine)
    app.add_middleware(RequestMetricsMiddleware)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not access.allows_address(request.client.host if request.client else None):
            return error_response(request, "metricsAddressDenied")
        if not access.allows_token(request.headers.get("authorization")):
            return error_response(
                request, "metricsTokenMissing", headers={"WWW-Authenticate": "Bearer"}
            )
        body, content_type = telemetry.exposition()
        return Response(body, media_type=content_type)


class RequestMetricsMiddleware:
    """Counts and times each HTTP request under its route template, never its raw path.

    The router writes the matched route into the scope it is given. Graph paths are
    normalized here, before GraphPathMiddleware, so that one does not copy the scope
    and the route stays visible here; ids and query strings never become labels.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = normalize_path(scope["path"])
        if path != scope["path"]:
            scope = {**scope, "path": path}
        started = time.perf_counter()
        status = 500  # what the client sees when nothing answered

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed = time.perf_counter() - started
            telemetry.record_request(scope["method"], route_template(scope), status, elapsed)


def route_template(scope: Scope) -> str:
    """The matched route's path template, with the version root it was reached under.

    FastAPI keeps an included router's routes with their own paths, so /v1.0 and /beta
    copies of one route name the same template; the version is put back from the path.
    """
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str):
        return UNMATCHED
    version = scope["path"].split("/", 2)[1] if scope["path"].count("/") >= 2 else ""
    if version in VERSIONS and not template.startswith(f"/{version}/"):
        return f"/{version}{template}"
    return template
