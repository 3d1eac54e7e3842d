"""The booking path's reads of staff time use an index that starts at the window.

A clinic keeps years of appointments: a read of busy time, the write-side check and the
least-booked choice must not visit the past. Each statement the booking path sends that
touches staff holds is run again under EXPLAIN on a database holding two years of history
(statistics gathered), and its plan must reach staff holds through the staff-and-end
index, never by scanning the table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, text

from openvisit.store.db import Database
from openvisit.store.models import Appointment, StaffHold, table_of
from tests.bookings.clinic import TUESDAY_10, book_at, make_clinic

PAST_APPOINTMENTS = 3_000  # every weekday hour, going back about two years


def _add_history(db: Database, business: str, staff_id: str) -> None:
    """Past appointments with their holds, written in bulk: booking them one by one
    through the service would take minutes, and only their rows matter here."""
    appointments, holds = [], []
    for index in range(PAST_APPOINTMENTS):
        start = TUESDAY_10 - timedelta(days=1 + index // 4, hours=index % 4)
        end = start + timedelta(minutes=30)
        appointment_id = str(uuid.uuid4())
        appointments.append(
            {
                "id": appointment_id,
                "business_id": business,
                "display_name": "Visit",
                "created_date_time": start,
                "last_updated_date_time": start,
                "start_date_time": start,
                "end_date_time": end,
                "pre_buffer_seconds": 0,
                "post_buffer_seconds": 0,
                "blocked_start": start,
                "blocked_end": end,
                "staff_member_ids": [staff_id],
                "customers": [],
                "seats": 1,
                "maximum_attendees_count": 1,
                "details": {},
                "status": "booked",
            }
        )
        holds.append(
            {
                "appointment_id": appointment_id,
                "staff_id": staff_id,
                "business_id": business,
                "blocked_start": start,
                "blocked_end": end,
                "group_key": appointment_id,
            }
        )
    with db.write() as session:
        session.execute(insert(table_of(Appointment)), appointments)
        session.execute(insert(table_of(StaffHold)), holds)
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


@contextmanager
def _hold_reads(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (with its parameters) that reads staff holds inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "staff_holds" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _plan(db: Database, statement: str, parameters: Any) -> str:
    explain = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(explain + statement, parameters).all()
    return "\n".join(" ".join(str(part) for part in row) for row in rows)


def test_booking_reads_staff_time_from_the_window_on(runtime):
    clinic = make_clinic(runtime)
    _add_history(runtime.db, clinic["business"], clinic["ann"])

    with _hold_reads(runtime.db) as reads:
        book_at(runtime, clinic, staff=())  # "anyone": busy time, choice and the re-check

    assert len(reads) >= 2, "the booking path no longer reads staff holds as expected"
    for statement, parameters in reads:
        plan = _plan(runtime.db, statement, parameters)
        for access, condition in _accesses(plan, sqlite=runtime.db.is_sqlite):
            if "staff_holds" in access:
                # From the window on through the staff-and-end index, or one appointment's
                # own holds reached from a window-bounded search of appointments.
                assert "blocked_end" in condition or "appointment_id" in condition, plan
            else:
                assert "start_date_time" in condition or "id" in condition, plan


def _accesses(plan: str, *, sqlite: bool) -> list[tuple[str, str]]:
    """(table access, its index condition) for each read of holds or appointments.

    A whole-table scan has no condition, so it fails the caller's checks.
    """
    lines = plan.splitlines()
    found = []
    for index, line in enumerate(lines):
        if sqlite:
            if " staff_holds" in line or " appointments" in line:
                bounded = "SEARCH" in line
                found.append((line, line.partition("(")[2] if bounded else ""))
        elif " on staff_holds" in line or " on appointments" in line:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            found.append((line, following if "Index Cond" in following else ""))
    return found
