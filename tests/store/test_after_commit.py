"""Work registered in a write runs once it commits, never when it rolls back."""

from __future__ import annotations

import logging

import pytest

from openvisit.store.after_commit import after_commit


def test_work_runs_after_the_commit_only(database):
    ran: list[str] = []
    with database.write() as session:
        after_commit(session, lambda: ran.append("first"))
        after_commit(session, lambda: ran.append("second"))
        assert ran == []  # not while the transaction is open
    assert ran == ["first", "second"]

    with pytest.raises(RuntimeError), database.write() as session:
        after_commit(session, lambda: ran.append("rolled back"))
        raise RuntimeError("the write fails")
    with database.write():
        pass  # a later transaction does not run what the failed one left
    assert ran == ["first", "second"]


def test_a_failing_action_is_logged_and_the_others_still_run(database, caplog):
    ran: list[str] = []

    def broken() -> None:
        raise OSError("the file will not go")

    with caplog.at_level(logging.ERROR), database.write() as session:
        after_commit(session, broken)
        after_commit(session, lambda: ran.append("next"))

    assert ran == ["next"]
    assert "work after commit failed" in caplog.text
