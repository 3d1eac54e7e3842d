"""insert_rows: several tables in one round trip on PostgreSQL, constraints still enforced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from openvisit.clock import FixedClock
from openvisit.runtime import Runtime
from openvisit.store.db import Database
from openvisit.store.inserts import insert_rows
from openvisit.store.models import Appointment, AuditRecord, StaffHold
from tests.conftest import build_test_runtime
from tests.databases import PostgresDatabase, count_statements, requested_backends
from tests.factories import make_business
from tests.rows import appointment_row, hold_row

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _writes(business: str, start: datetime) -> list[tuple[Any, list[dict[str, Any]]]]:
    appointment = appointment_row(business, "ann", start) | {"customers": [{"name": "Jordan Lee"}]}
    hold = hold_row(appointment)
    audit = {"action": "test", "actor": "test", "subject": appointment["id"], "at": start}
    return [
        (Appointment, [appointment]),
        (StaffHold, [hold]),
        (AuditRecord, [audit | {"data": {}}]),
    ]


def _count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_rows_of_several_tables_land_together(runtime: Runtime) -> None:
    business = make_business(runtime)

    with count_statements(runtime.db) as seen, runtime.db.write() as session:
        insert_rows(session, [*_writes(business, START), (AuditRecord, [])])

    inserts = [statement for statement in seen if "INSERT" in statement.upper()]
    assert len(inserts) == (1 if not runtime.db.is_sqlite else 3)
    with runtime.db.read() as session:
        stored = session.scalars(select(Appointment)).one()
        assert stored.customers == [{"name": "Jordan Lee"}]  # JSON went through its type
        assert stored.start_date_time == START
    assert _count(runtime.db, StaffHold) == 1
    assert _count(runtime.db, AuditRecord) >= 2  # the business's creation, and this


@pytest.fixture
def pg_runtime(
    backend: str, postgres_database: PostgresDatabase, clock: FixedClock
) -> Iterator[Runtime]:
    with postgres_database.database() as database:
        yield build_test_runtime(database, clock)


# PostgreSQL only: SQLite has no exclusion constraint (its writers are serialized).
@pytest.mark.parametrize("backend", [name for name in requested_backends() if name == "postgresql"])
def test_the_exclusion_constraint_still_refuses_overlap_in_one_statement(
    pg_runtime: Runtime,
) -> None:
    runtime = pg_runtime
    business = make_business(runtime)
    with runtime.db.write() as session:
        insert_rows(session, _writes(business, START))
    audit_rows = _count(runtime.db, AuditRecord)

    with pytest.raises(IntegrityError), runtime.db.write() as session:
        insert_rows(session, _writes(business, START + timedelta(minutes=15)))

    assert _count(runtime.db, Appointment) == 1  # nothing of the refused statement stays
    assert _count(runtime.db, AuditRecord) == audit_rows
