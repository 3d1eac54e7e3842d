"""Composition root: Settings -> database, clock, runtime -> one ASGI app.

The only module (with cli.py) that knows every layer and reads Settings.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import anyio.to_thread
import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from openvisit import __version__, delivery, logs
from openvisit.addresses import parse_networks
from openvisit.auth.hashing import PasswordHashing
from openvisit.bookings.document_store import UPLOADS_FOLDER, DocumentStore
from openvisit.bus import choice as bus_choice
from openvisit.bus.port import EventBus
from openvisit.clock import Clock, SystemClock
from openvisit.config import Settings, resolve_secret_key
from openvisit.errors import DomainError, ServiceBusy
from openvisit.files import ensure_private_dir
from openvisit.graph import documents as graph_documents
from openvisit.graph.admission import AdmissionLimiter, AdmissionMiddleware
from openvisit.graph.api import graph_router
from openvisit.graph.cors import install_cors
from openvisit.graph.errors import (
    domain_error_response,
    error_response,
    install_error_handlers,
)
from openvisit.graph.limits import BodySizeLimitMiddleware, UploadPath
from openvisit.graph.observe import RequestContextMiddleware
from openvisit.graph.openapi import install_openapi, operation_id
from openvisit.graph.paths import GraphPathMiddleware
from openvisit.graph.request_guards import AuthenticateFirstMiddleware, RefuseNulMiddleware
from openvisit.metrics import install as install_metrics
from openvisit.notify.dispatcher import running as dispatcher_running
from openvisit.origins import parse_origins
from openvisit.realtime import endpoint as realtime
from openvisit.runtime import Runtime
from openvisit.store.db import Database
from openvisit.web import pages
from openvisit.web.consumer import documents as consumer_documents
from openvisit.web.security_headers import SecurityHeadersMiddleware

logger = logging.getLogger(__name__)
# A lost bus connection is retried within 5 s (bus/_network.py's longest backoff).
BUS_RETRY_AFTER_SECONDS = 5

# POSTs that may carry a file up to the upload limit instead of the API's 1 MiB.
UPLOAD_PATHS = (
    graph_documents.UPLOAD_PATH,
    UploadPath(consumer_documents.UPLOAD_PATTERN, consumer_documents.refuse_too_large),
)

API_DESCRIPTION = """\
OpenVisit serves the Microsoft Graph Bookings API shape. Every operation needs a bearer
token (`openvisit token create`) holding the Graph permission named in its description.
Paths under `/beta` mirror `/v1.0`; `/beta/bookingBusinesses` (without `/solutions`) is
accepted too, and path segments match case-insensitively.
"""


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, database: Database | None = None
) -> Runtime:
    ensure_private_dir(settings.data_dir)
    return Runtime(
        db=database or Database(settings.resolved_database_url),
        clock=clock or SystemClock(),
        base_url=settings.public_base_url,
        business_id_domain=settings.business_id_domain,
        page_size=settings.page_size,
        secret_key=resolve_secret_key(settings),
        session_max_age_seconds=settings.session_max_age_seconds,
        secure_cookies=settings.public_base_url.startswith("https://"),
        documents=DocumentStore(
            settings.data_dir / UPLOADS_FOLDER,
            max_bytes=settings.upload_max_bytes,
            max_files_per_appointment=settings.upload_max_files_per_appointment,
            max_total_bytes_per_appointment=settings.upload_max_total_bytes_per_appointment,
        ),
        redis_url=settings.redis_url,
        trusted_proxies=parse_networks(settings.trusted_proxies),
        password_hashing=PasswordHashing(),
        events=bus_choice.build_event_bus(
            settings.resolved_event_bus,
            redis_url=settings.redis_url,
            database_url=settings.resolved_database_url,
        ),
        ice=settings.ice_config,
    )


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    threads: int | None = None,
    admission: AdmissionLimiter | None = None,
) -> FastAPI:
    """Build the app; tests pass a `runtime` with their own database and clock.

    `threads` caps the worker threads that run sync handlers and database calls; it
    defaults to `settings.threads`, and with only a `runtime` anyio's default stays.
    `admission` bounds booking writes per process; from the settings by default.
    `uvicorn --factory openvisit.app:create_app` calls this with no arguments.
    """
    if runtime is None and settings is None:
        # Built by uvicorn's factory (a worker process): nothing has set up logging yet.
        settings = Settings()
        logs.configure(settings.log_level, settings.log_format)
    if runtime is None:
        settings = settings or Settings()
        runtime = build_runtime(settings)
    if threads is None and settings is not None:
        threads = settings.threads
    if admission is None:
        defaults = settings or Settings.model_construct()
        admission = AdmissionLimiter(
            defaults.booking_concurrency or threads or defaults.threads, defaults.booking_queue
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if threads is not None:
            # The limiter belongs to the running event loop, so it is set here, not at build
            # time. Few threads book faster than anyio's 40: while one holds SQLite's write
            # lock, the others only fight it for the GIL (405 vs 315 bookings/s measured).
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with AsyncExitStack() as stack:
            # First in, last out: the hub starts the event bus (events.md) and is what
            # the bus delivers to; everything else may publish while it runs.
            hub = realtime.hub_of(app)
            await hub.start()
            logger.info("event bus: %s", app.state.runtime.events.name)
            stack.push_async_callback(hub.stop)
            if settings is not None and settings.notifications_in_server:
                await stack.enter_async_context(_dispatching(settings, app.state.runtime))
            yield
        app.state.runtime.db.dispose()

    app = OpenVisitApp(
        title="OpenVisit",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # web/api_docs.py serves /docs from vendored files, not a CDN
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(graph_router())
    app.include_router(pages.router)
    _add_health(app)
    app.state.admission = admission
    app.add_middleware(AdmissionMiddleware, limiter=admission)  # innermost: sees Graph paths
    app.add_middleware(GraphPathMiddleware)
    app.add_middleware(RefuseNulMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, uploads=UPLOAD_PATHS)
    app.add_middleware(AuthenticateFirstMiddleware)  # outside the body cap: 401 before 413
    app.add_middleware(SecurityHeadersMiddleware)
    if settings is not None:  # outside the guards, so preflights and refusals carry CORS
        install_cors(app, parse_origins(settings.cors_origins))
    install_openapi(app)
    if settings is not None:  # last, so its timing covers the other middleware
        install_metrics(app, settings.metrics_access)
    # Outermost of ours: request ids and the 500 answer cover what every other one does.
    app.add_middleware(RequestContextMiddleware)
    return app


class OpenVisitApp(FastAPI):
    """The application, which hands its real-time WebSockets to realtime/endpoint.py
    before its middleware stack (see `realtime.asgi` for why)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if realtime.is_realtime(scope):
            scope["app"] = self
            await realtime.asgi(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _dispatching(settings: Settings, runtime: Runtime) -> AbstractAsyncContextManager[None]:
    """The notification dispatcher, running for the life of this server process.

    With `serve --workers N` every worker process runs one. That sends nothing twice:
    a claim is exclusive whatever runs where (FOR UPDATE SKIP LOCKED on PostgreSQL, the
    write lock on SQLite), and an idle poll is one indexed read. Electing one process
    instead would leave nobody sending while that process is replaced, and would need
    the supervisor to know about notifications; N pollers cost N reads per interval.
    """
    dispatcher = delivery.build_dispatcher(
        settings,
        runtime.db,
        runtime.clock,
        secret_key=runtime.secret_key,
        base_url=runtime.base_url,
    )
    return dispatcher_running(dispatcher)


def _add_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        """The process is up."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "A dependency is down"}})
    def readyz(request: Request) -> Any:
        """The database answers, a network event bus is connected, Redis (if set) answers."""
        runtime: Runtime = request.app.state.runtime

        # check_writable: no probe while writes succeed; after a storage fault (full disk,
        # read-only file) a write that changes nothing, so readiness returns by itself.
        def database() -> str:
            runtime.db.ping()
            runtime.db.check_writable()
            return "reachable"

        checks: dict[str, Callable[[], str]] = {"database": database}
        if runtime.events.crosses_processes:
            checks["eventBus"] = lambda: _bus_connected(runtime.events)
        if runtime.redis_url:
            checks["redis"] = lambda: _ping_redis(runtime.redis_url or "")
        report: dict[str, str] = {}
        for name, check in checks.items():
            try:
                report[name] = check()
            except Exception as error:  # any client error means "not ready"
                logger.warning("readiness check %s failed: %s", name, error)
                if isinstance(error, DomainError):  # e.g. "storage is full" (503)
                    return domain_error_response(request, error)
                return error_response(request, "notReady", component=name)
        return JSONResponse({"status": "ok", **report})


def _bus_connected(events: EventBus) -> str:
    """A worker whose bus is down serves visits whose other side it cannot hear: out of
    the balancer's rotation until the bus has reconnected (by itself, bus/_network.py)."""
    if not events.connected:
        raise ServiceBusy(
            "eventBusDisconnected", retry_after_seconds=BUS_RETRY_AFTER_SECONDS, bus=events.name
        )
    return "connected"


def _ping_redis(url: str) -> str:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "reachable"
