"""Misuse of transactions fails at once instead of waiting on its own lock."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from openvisit.store.db import Database, NestedWrite
from openvisit.store.locking import in_write_transaction, lock_staff_time


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


def _decide_and_write(
    database: Database, *, valid: bool = True, settle: bool = False
) -> tuple[str, list[bool]]:
    """Run `decide_and_write`; the result and, per decision, whether it held the write."""
    decided_in_write: list[bool] = []

    def decide(session: Session) -> str:
        decided_in_write.append(in_write_transaction(session))
        return f"decision {len(decided_in_write)}"

    def write(session: Session, decision: str) -> str:
        assert in_write_transaction(session)
        return f"wrote {decision}"

    result = database.decide_and_write(
        decide,
        write,
        still_valid=lambda _session, _decision: valid,
        settled=lambda decision: f"settled {decision}" if settle else None,
    )
    return result, decided_in_write


def test_sqlite_decides_outside_the_write_lock_and_postgresql_under_it(
    database: Database,
) -> None:
    result, decided_in_write = _decide_and_write(database)

    assert result == "wrote decision 1"
    # SQLite's one write lock stops every writer, so it is not held while deciding;
    # PostgreSQL's locks are per staff member, so it decides where it writes.
    assert decided_in_write == [not database.is_sqlite]


def test_a_decision_no_longer_valid_is_taken_again_under_the_write_lock(
    database: Database,
) -> None:
    result, decided_in_write = _decide_and_write(database, valid=False)

    if database.is_sqlite:  # the read's decision went stale: decided again, locked
        assert (decided_in_write, result) == ([False, True], "wrote decision 2")
    else:  # decided once, under the lock, so never re-checked
        assert (decided_in_write, result) == ([True], "wrote decision 1")


def test_a_settled_decision_is_returned_without_writing(database: Database) -> None:
    result, decided_in_write = _decide_and_write(database, settle=True)

    assert result == "settled decision 1"
    assert decided_in_write == [not database.is_sqlite]
