"""`openvisit worker` and `openvisit serve` as real processes over a test database.

The processes use the system clock, so the rows they are given are due by real time:
`real_time_runtime` pins a FixedClock at the real "now" for the rows the test writes.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import func, select

from openvisit.clock import FixedClock, SystemClock
from openvisit.runtime import Runtime
from openvisit.store.db import Database
from openvisit.store.models import Notification, NotificationEvent, OutboxMessage
from tests.conftest import TEST_SECRET, build_test_runtime

WORKER = (sys.executable, "-m", "openvisit", "worker")


def real_time_runtime(database: Database) -> Runtime:
    return build_test_runtime(database, FixedClock(SystemClock().now()))


def environment(database: Database, data_dir: Path, **settings: object) -> dict[str, str]:
    """The caller's environment (already without OPENVISIT_*) plus these settings."""
    values = {
        "database_url": database.url,
        "data_dir": str(data_dir),
        "secret_key": TEST_SECRET,
        "notification_poll_seconds": 0.1,
        **settings,
    }
    return {
        **os.environ,
        **{f"OPENVISIT_{key.upper()}": str(value) for key, value in values.items()},
    }


@contextlib.contextmanager
def worker(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A running `openvisit worker`; killed at the end if the test left it running."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*WORKER, *args], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=timeout)


def wait_until(condition: Callable[[], bool], what: str, timeout: float) -> float:
    """Seconds it took; fails the test past `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - started


def count_status(db: Database, status: str) -> int:
    with db.read() as session:
        found = session.scalar(
            select(func.count()).select_from(Notification).where(Notification.status == status)
        )
        return int(found or 0)


def outbox_keys(db: Database) -> collections.Counter[str]:
    """How often each idempotency key reached the outbox: once, for exactly-once."""
    with db.read() as session:
        return collections.Counter(session.scalars(select(OutboxMessage.idempotency_key)).all())


def notification_keys(db: Database) -> dict[str, str]:
    """idempotency key -> notification id."""
    with db.read() as session:
        rows = session.execute(select(Notification.idempotency_key, Notification.id)).all()
        return {str(key): str(notification_id) for key, notification_id in rows}


def event_counts(db: Database, event: str) -> collections.Counter[str]:
    """notification id -> how many log rows of this event it has."""
    with db.read() as session:
        ids = session.scalars(
            select(NotificationEvent.notification_id).where(NotificationEvent.event == event)
        ).all()
        return collections.Counter(ids)


def workers_that(db: Database, event: str) -> set[str]:
    with db.read() as session:
        found = session.scalars(
            select(NotificationEvent.worker).where(NotificationEvent.event == event).distinct()
        ).all()
        return {name for name in found if name}
