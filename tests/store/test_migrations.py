"""The migrations run up and down unchanged on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import StatementError

from openvisit.store.migrate import downgrade, upgrade
from openvisit.store.models import Base, StaffUser


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
