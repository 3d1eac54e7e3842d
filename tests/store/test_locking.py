"""PostgreSQL staff-time locks: one round trip for any staff, and a busy answer, not a hang."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from openvisit.store.db import Database
from openvisit.store.locking import LOCK_TIMEOUT_MS, Busy, lock_staff_time
from tests.databases import PostgresDatabase, count_statements, requested_backends

# PostgreSQL only (SQLite has one lock for the whole file); none collected without it.
pytestmark = pytest.mark.parametrize(
    "backend", [name for name in requested_backends() if name == "postgresql"]
)


@pytest.fixture
def pg(backend: str, postgres_database: PostgresDatabase) -> Iterator[Database]:
    with postgres_database.database() as database:
        yield database


def _advisory_locks_held(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(
            connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            )
            or 0
        )


def test_any_number_of_staff_are_locked_in_one_statement(pg: Database) -> None:
    with pg.write() as session:
        session.execute(text("SELECT 1"))
        with count_statements(pg) as statements:
            lock_staff_time(session, ["carol", "ann", "bob", "ann"])
        held = _advisory_locks_held(pg)

    assert len(statements) == 1
    assert held == 3  # duplicates are locked once
    assert _advisory_locks_held(pg) == 0  # transaction-scoped: gone at commit


def test_every_connection_waits_at_most_the_lock_timeout(pg: Database) -> None:
    with pg.engine.connect() as connection:
        assert connection.scalar(text("SHOW lock_timeout")) == f"{LOCK_TIMEOUT_MS // 1000}s"


def test_a_writer_stuck_behind_a_lock_gets_a_retryable_busy(pg: Database) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold_ann() -> None:
        with pg.write() as session:
            lock_staff_time(session, ["ann"])
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_ann)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(Busy) as raised, pg.write() as session:
            # Shorter than the shipped 5 s so the test stays quick; same error path.
            session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            lock_staff_time(session, ["bob", "ann"])
        assert raised.value.status == 503
        assert raised.value.retry_after_seconds == 1  # answered with Retry-After: 1
        with pg.write() as session:  # someone else's time is not held up
            lock_staff_time(session, ["bob"])
    finally:
        release.set()
        holder.join(10)
