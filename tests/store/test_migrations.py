"""The migrations run up and down unchanged on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import StatementError

from openvisit.clock import FixedClock, SystemClock
from openvisit.meetings import server_leases
from openvisit.store.migrate import downgrade, upgrade
from openvisit.store.models import (
    Base,
    MeetingAttendance,
    MeetingParticipant,
    OnlineMeeting,
    ServerInstance,
    StaffUser,
    table_of,
)


def test_migrations_round_trip(database):
    downgrade(database.url, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}

    upgrade(database.url)

    tables = set(inspect(database.engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables


def test_naive_datetimes_are_refused(database):
    with pytest.raises(StatementError, match="naive datetime"), database.write() as session:
        session.add(
            StaffUser(
                id="u1",
                email="a@b.test",
                display_name="A",
                role="viewer",
                created_date_time=datetime(2026, 1, 1),  # noqa: DTZ001 - what is refused
            )
        )


def test_stretches_open_at_the_upgrade_to_leases_are_closed_once_that_upgrade_is_old(database):
    """Rows an older server left open never said when it was last alive: they end at the
    upgrade, the latest moment known, one lease expiry after it, instead of never."""
    downgrade(database.url, "0014")
    at = datetime.fromisoformat("2026-11-24T15:00:00+00:00")
    with database.engine.begin() as connection:
        connection.execute(
            insert(table_of(OnlineMeeting)).values(
                id="m", start_date_time=at, end_date_time=at, created_date_time=at, properties={}
            )
        )
        connection.execute(
            insert(table_of(MeetingParticipant)).values(
                id="p", meeting_id="m", participant_key="consumer", role="consumer",
                display_name="Ada", state="lobby",
            )
        )  # fmt: skip
        for connection_id, ended_at in (("c_left", at), ("c_ghost", None)):
            connection.execute(
                insert(table_of(MeetingAttendance)).values(
                    meeting_id="m", participant_id="p", kind="lobby",
                    connection_id=connection_id, started_at=at, ended_at=ended_at,
                )
            )  # fmt: skip
    before = SystemClock().now()
    upgrade(database.url)
    with database.read() as session:
        [(lease, upgraded_at)] = session.execute(
            select(ServerInstance.id, ServerInstance.heartbeat_at)
        ).all()
        owners = dict(
            session.execute(
                select(MeetingAttendance.connection_id, MeetingAttendance.server_instance_id)
            ).all()
        )
    assert before <= upgraded_at <= SystemClock().now()
    assert owners == {"c_left": None, "c_ghost": lease}
    later = FixedClock(upgraded_at + server_leases.EXPIRES_AFTER)
    sweep = server_leases.reap
    assert sweep(database, later, lambda _c, _p: None, sweeper="new") == 0
    later.advance(server_leases.RENEW_EVERY)
    assert sweep(database, later, lambda _c, _p: None, sweeper="new") == 1
    with database.read() as session:
        ended = session.scalars(
            select(MeetingAttendance.ended_at).where(MeetingAttendance.connection_id == "c_ghost")
        ).one()
    assert ended == upgraded_at
