"""A real server process killed with SIGKILL: the server started after it closes the
waiter's stretch at the dead one's last heartbeat, and stops cleanly leaving nothing open.

Both processes pin their clocks (tests/processes.py): the second one starts "two minutes
later", past the dead one's lease expiry, as a restart after a crash would.
"""

from __future__ import annotations

import os
import signal
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from openvisit.meetings.server_leases import EXPIRES_AFTER
from openvisit.store.db import Database
from openvisit.store.models import MeetingAttendance, ServerInstance
from tests.processes import server_process
from tests.realtime.conftest import MORNING
from tests.realtime.test_processes import socket_to
from tests.visits import Visit


def _stretches(db: Database) -> list[tuple[str | None, datetime | None]]:
    with db.read() as session:
        rows = session.execute(
            select(MeetingAttendance.server_instance_id, MeetingAttendance.ended_at).order_by(
                MeetingAttendance.id
            )
        ).all()
    return [(server, ended) for server, ended in rows]


def _leases(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(ServerInstance.id)))


def test_the_next_server_closes_what_a_killed_one_left_open(
    database: Database, visit: Visit, tmp_path: Path
) -> None:
    settings = {"OPENVISIT_DATABASE_URL": database.url}
    with server_process("a", tmp_path, MORNING, settings) as first, socket_to(first) as waiter:
        assert waiter.hello(join=visit.consumer_token)["snapshot"]["state"] == "lobby"
        [killed] = _leases(database)
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
    assert _stretches(database) == [(killed, None)]  # nobody closed it

    restarted = MORNING + EXPIRES_AFTER + timedelta(minutes=1)
    with server_process("b", tmp_path, restarted, settings) as second:
        assert _stretches(database) == [(killed, MORNING)]  # swept as it started
        [lease] = _leases(database)
        with socket_to(second) as waiter:
            assert waiter.hello(join=visit.consumer_token)["snapshot"]["state"] == "lobby"
            assert _stretches(database)[-1] == (lease, None)
            waiter.until("lobby", position=1)
    assert _leases(database) == []
    assert [ended for _server, ended in _stretches(database)] == [MORNING, restarted]
