"""Prometheus metrics: what is counted, and how the figures of every worker are summed.

Services call the small functions here (`booking_made`, `booking_refused`) and never see
prometheus_client or a web framework; `openvisit.metrics` serves the figures over HTTP.

With `openvisit serve --workers N` every worker is its own process, so each keeps its
figures in files under PROMETHEUS_MULTIPROC_DIR, which the supervisor points at a fresh
folder before the workers start (`prepare_multiprocess_dir`); a scrape answered by any
worker reads and sums them all. prometheus_client decides between in-memory and file
values when it is first imported, so that variable must be set before this module is
imported in a worker, which spawning (not forking) guarantees.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from sqlalchemy import Engine, event
from sqlalchemy.pool import QueuePool

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "openvisit_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "openvisit_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BOOKINGS_MADE = Counter(
    "openvisit_bookings_made", "Appointments booked (idempotent replays not counted)."
)
BOOKINGS_REFUSED = Counter(
    "openvisit_bookings_refused", "Booking requests refused, by reason.", ["reason"]
)
NOTIFICATIONS_SENT = Counter(
    "openvisit_notifications_sent", "Notifications a transport accepted.", ["channel", "kind"]
)
NOTIFICATIONS_RETRIED = Counter(
    "openvisit_notifications_retried",
    "Sends that failed for now and were put back with a backoff.",
    ["channel", "kind"],
)
NOTIFICATIONS_FAILED = Counter(
    "openvisit_notifications_failed",
    "Notifications given up: a permanent failure, or every attempt used.",
    ["channel", "kind"],
)
NOTIFICATIONS_DROPPED = Counter(
    "openvisit_notifications_dropped",
    "Notifications not sent because their moment passed (a reminder once the visit began).",
    ["channel", "kind"],
)
# livesum: the figure of a worker that died leaves the sum (see `process_exited`).
DB_CHECKED_OUT = Gauge(
    "openvisit_db_connections_checked_out",
    "Database connections in use by requests now.",
    multiprocess_mode="livesum",
)
DB_OVERFLOW = Gauge(
    "openvisit_db_connections_overflow",
    "Connections in use beyond the pool size (SQLAlchemy's pool overflow).",
    multiprocess_mode="livesum",
)


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request; `route` is a template such as /v1.0/.../{business_id}."""
    method = method if method in METHODS else "other"
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def booking_made() -> None:
    BOOKINGS_MADE.inc()


def booking_refused(reason: str) -> None:
    BOOKINGS_REFUSED.labels(reason).inc()


def notification_outcome(outcome: str, channel: str, kind: str) -> None:
    """Count one delivery outcome: sent, retried, failed or dropped."""
    counters = {
        "sent": NOTIFICATIONS_SENT,
        "retried": NOTIFICATIONS_RETRIED,
        "failed": NOTIFICATIONS_FAILED,
        "dropped": NOTIFICATIONS_DROPPED,
    }
    counters[outcome].labels(channel, kind).inc()


def watch_pool(engine: Engine) -> None:
    """Keep the connection gauges current from the engine's pool events."""
    pool = engine.pool
    size = pool.size() if isinstance(pool, QueuePool) else None
    lock = threading.Lock()
    checked_out = 0

    def on_checkout(*_args: Any) -> None:
        nonlocal checked_out
        with lock:
            checked_out += 1
            DB_CHECKED_OUT.inc()
            if size is not None and checked_out > size:
                DB_OVERFLOW.inc()

    def on_checkin(*_args: Any) -> None:
        nonlocal checked_out
        with lock:
            if size is not None and checked_out > size:
                DB_OVERFLOW.dec()
            checked_out -= 1
            DB_CHECKED_OUT.dec()

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)


def prepare_multiprocess_dir(folder: Path) -> None:
    """Empty `folder` and make it this process's and its children's metrics folder.

    Call before any worker starts: files left by an earlier run would be summed in.
    """
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def process_exited(pid: int) -> None:
    """Drop the live gauges of a worker that exited, so its connections stop counting."""
    if os.environ.get(MULTIPROC_ENV):
        _multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def exposition() -> tuple[bytes, str]:
    """The current figures in Prometheus text format, and that format's content type."""
    if folder := os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
