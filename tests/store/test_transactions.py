"""Misuse of transactions fails at once instead of waiting on its own lock."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from openvisit.store.db import Database, NestedWrite
from openvisit.store.locking import lock_staff_time


def test_a_nested_write_is_refused_at_once(database: Database) -> None:
    started = time.monotonic()
    with database.write(), pytest.raises(NestedWrite), database.write():
        pass  # pragma: no cover - never entered

    assert time.monotonic() - started < 1  # not after the writer queue's 15 s wait
    with database.write() as session:  # the outer one ended cleanly: writes go on
        session.execute(text("SELECT 1"))


def test_staff_time_is_locked_only_in_a_write_transaction(database: Database) -> None:
    if database.is_sqlite:
        # SQLite's write transaction holds the file lock; staff locks are PostgreSQL's.
        with database.read() as session:
            lock_staff_time(session, ["ann"])
        return
    with database.read() as session, pytest.raises(RuntimeError, match=r"Database\.write"):
        lock_staff_time(session, ["ann"])
