"""The booking and availability reads touch only rows near their window, never the past.

A clinic keeps years of appointments: the busy-time read, the write-side check, the
least-booked choice and calendarView must cost the same with two years of history as
without. Each read is captured while the service runs, then run again under EXPLAIN on
a database holding that history, and its plan must reach staff holds and appointments
through an index range that starts at the window (or by primary key), never by scanning
a table and never from the first row ever booked. SQLite is checked without statistics
(the server never runs ANALYZE) and with them; PostgreSQL with them, as autovacuum
gathers them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from openvisit.bookings import calendar_feeds
from openvisit.bookings.appointment_queries import list_appointments
from openvisit.bookings.availability import list_slots, staff_availability
from openvisit.listing import ListQuery
from openvisit.runtime import Runtime
from openvisit.scheduling.intervals import Interval
from openvisit.store.db import Database
from openvisit.store.models import Appointment, StaffHold, table_of
from tests.bookings.clinic import TUESDAY_10, book_at, make_clinic
from tests.rows import appointment_row, hold_row

PAST_DAYS = 730  # two years, four appointments a day for each of the two doctors
HOLDS_FROM_WINDOW = "ix_staff_holds_staff_end"
APPOINTMENTS_BY_START = "ix_appointments_business_start"


def _add_history(db: Database, business: str, staff_ids: list[str]) -> None:
    """Past appointments with their holds, written in bulk: booking them one by one
    through the service would take minutes, and only their rows matter here."""
    appointments = [
        appointment_row(business, staff_id, TUESDAY_10 - timedelta(days=1 + n // 4, hours=n % 4))
        for staff_id in staff_ids
        for n in range(PAST_DAYS * 4)
    ]
    holds = [hold_row(appointment) for appointment in appointments]
    with db.write() as session:
        session.execute(insert(table_of(Appointment)), appointments)
        session.execute(insert(table_of(StaffHold)), holds)


def _analyze(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


@dataclass(frozen=True)
class Read:
    statement: str
    parameters: Any
    writing: bool  # sent inside Database.write(): the write-side check


@contextmanager
def _reads(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Read]]:
    """Every SELECT of staff holds or appointments sent inside the block."""
    seen: list[Read] = []
    writing = [False]
    original = db.write

    @contextmanager
    def write() -> Iterator[Session]:
        writing[0] = True
        try:
            with original() as session:
                yield session
        finally:
            writing[0] = False

    def record(_conn: object, _cursor: object, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and (
            "staff_holds" in statement or "appointments" in statement
        ):
            seen.append(Read(statement, parameters, writing[0]))

    monkeypatch.setattr(db, "write", write)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        monkeypatch.setattr(db, "write", original)


@dataclass(frozen=True)
class Access:
    """How a plan reaches one table: the index (None: a whole-table scan), its condition."""

    table: str
    index: str | None
    condition: str  # without spaces, e.g. "staff_id=?ANDblocked_end>?"
    plan: str


def _accesses(db: Database, read: Read) -> list[Access]:
    """Each access of staff holds or appointments in the read's plan."""
    with db.engine.connect() as connection:
        if db.is_sqlite:
            rows = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + read.statement, read.parameters
            ).all()
            details = [str(row[-1]) for row in rows]
            return [
                access
                for detail in details
                if (access := _sqlite_access(detail, "\n".join(details))) is not None
            ]
        raw = connection.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + read.statement, read.parameters
        ).scalar_one()
    tree = json.loads(raw) if isinstance(raw, str) else raw
    found: list[Access] = []
    _postgres_accesses(tree[0]["Plan"], json.dumps(tree, indent=1), found)
    return found


_SQLITE_ACCESS = re.compile(
    r"^(SCAN|SEARCH) (\w+)(?: AS \w+)?"
    r"(?: USING (?:COVERING |PRIMARY KEY|INTEGER PRIMARY KEY)?(?:INDEX )?(\w+)?)?(?: \((.*)\))?"
)


def _sqlite_access(detail: str, plan: str) -> Access | None:
    match = _SQLITE_ACCESS.match(detail)
    if match is None or match.group(2) not in ("staff_holds", "appointments"):
        return None
    kind, table, index, condition = match.groups()
    if kind == "SCAN":  # the whole table, in some index's order at best
        return Access(table, None, "", plan)
    return Access(table, index or "primary key", (condition or "").replace(" ", ""), plan)


def _postgres_accesses(node: dict[str, Any], plan: str, found: list[Access]) -> None:
    table = node.get("Relation Name")
    kind = node["Node Type"]
    if table in ("staff_holds", "appointments"):
        if kind == "Seq Scan":
            found.append(Access(table, None, "", plan))
        elif kind == "Bitmap Heap Scan":
            leaves = _bitmap_leaves(node["Plans"][0])
            for leaf in leaves:
                found.append(
                    Access(table, leaf["Index Name"], leaf["Index Cond"].replace(" ", ""), plan)
                )
        elif "Index Name" in node:
            condition = node.get("Index Cond", "").replace(" ", "")
            found.append(Access(table, node["Index Name"], condition, plan))
    for child in node.get("Plans", []):
        if kind != "Bitmap Heap Scan":
            _postgres_accesses(child, plan, found)


def _bitmap_leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    if node["Node Type"] == "Bitmap Index Scan":
        return [node]
    return [leaf for child in node.get("Plans", []) for leaf in _bitmap_leaves(child)]


def _by_primary_key(access: Access, column: str) -> bool:
    """One row (or one appointment's holds) found by its id: costs nothing per past row."""
    return re.search(rf"(^|[(.]){column}\)?(::text)?=", access.condition) is not None


def _holds_from_the_window(access: Access) -> bool:
    """Holds of named staff read from the window on: the staff-and-end index, its range
    starting at the window's start. A range led by the start reaches back to the first
    hold ever booked; a range on the staff alone visits all of their history."""
    return access.index == HOLDS_FROM_WINDOW and "blocked_end>" in access.condition


def _appointments_from_the_window(access: Access) -> bool:
    """Appointments of one business with a start bounded on both sides. A start bounded
    only above reaches back to the first appointment ever booked."""
    return (
        access.index == APPOINTMENTS_BY_START
        and re.search(r"(^|[(])business_id\)?(::text)?=", access.condition) is not None
        and "start_date_time>" in access.condition
        and "start_date_time<" in access.condition
    )


def _check(db: Database, reads: list[Read]) -> None:
    """Every access of holds or appointments starts at the window or is a probe by id
    (one row per row found in the window), and at least one starts at the window."""
    assert reads, "the read under test sent no statement"
    for read in reads:
        accesses = _accesses(db, read)
        assert accesses, read.statement
        plan = accesses[0].plan
        bounded = [
            access
            for access in accesses
            if _holds_from_the_window(access) or _appointments_from_the_window(access)
        ]
        probes = [
            access
            for access in accesses
            if _by_primary_key(access, "id" if access.table == "appointments" else "appointment_id")
        ]
        assert bounded, plan
        assert len(bounded) + len(probes) == len(accesses), plan


@pytest.fixture(params=["statistics", "no statistics"])
def history(request: pytest.FixtureRequest, runtime: Runtime) -> dict[str, str]:
    """The clinic with two years of past appointments for both doctors.

    Without statistics only on SQLite, as its server runs; PostgreSQL's autovacuum
    always gathers them, so that case is skipped there.
    """
    if request.param == "no statistics" and not runtime.db.is_sqlite:
        pytest.skip("PostgreSQL always has statistics (autovacuum)")
    clinic = make_clinic(runtime)
    _add_history(runtime.db, clinic["business"], [clinic["ann"], clinic["bob"]])
    if request.param == "statistics":
        _analyze(runtime.db)
    return clinic


def _holds_reads(reads: list[Read]) -> list[Read]:
    return [read for read in reads if "staff_holds" in read.statement]


def test_busy_time_read_starts_at_the_window(runtime, history, monkeypatch):
    day = Interval(TUESDAY_10 - timedelta(hours=1), TUESDAY_10 + timedelta(hours=8))
    with _reads(runtime.db, monkeypatch) as reads:
        list_slots(runtime.db, runtime.clock, history["business"], history["visit"], day)
        staff_availability(runtime.db, history["business"], [history["ann"]], day)

    busy = _holds_reads(reads)
    assert len(busy) == 2
    _check(runtime.db, busy)


def test_write_side_check_starts_at_the_window(runtime, history, monkeypatch):
    with _reads(runtime.db, monkeypatch) as reads:
        book_at(runtime, history, staff=("ann",))

    # SQLite re-checks the drafted staff under the write lock; PostgreSQL decides
    # under its staff locks, inside the write transaction. Either way this read decides.
    checks = [read for read in _holds_reads(reads) if read.writing]
    assert checks
    _check(runtime.db, checks)


def test_least_booked_choice_reads_one_day(runtime, history, monkeypatch):
    with _reads(runtime.db, monkeypatch) as reads:
        book_at(runtime, history, staff=())  # "anyone"

    counts = [read for read in _holds_reads(reads) if "count(" in read.statement.lower()]
    assert len(counts) == 1
    _check(runtime.db, counts)


@pytest.mark.parametrize("own", [False, True], ids=["business", "own staff"])
def test_calendar_view_reads_from_the_window_on(runtime, history, monkeypatch, own):
    book_at(runtime, history, staff=("ann",))
    day = Interval(TUESDAY_10 - timedelta(hours=10), TUESDAY_10 + timedelta(hours=14))
    with _reads(runtime.db, monkeypatch) as reads:
        page = list_appointments(
            runtime.db,
            history["business"],
            ListQuery(count=True),
            page_size=100,
            window=day,
            own_staff_id=history["ann"] if own else None,
        )

    assert page.total == 1
    assert len(reads) == 2  # the $count and the page
    _check(runtime.db, reads)


def test_a_staff_calendar_feed_reads_from_its_window_on(runtime, history, monkeypatch):
    made = calendar_feeds.create_feed(
        runtime.db, runtime.clock, history["business"], history["ann"], actor="test"
    )
    book_at(runtime, history, staff=("ann",))
    with _reads(runtime.db, monkeypatch) as reads:
        body = calendar_feeds.read_feed(runtime.db, runtime.clock, made.token, uid_domain="t")

    assert body is not None
    # The window starts 30 days back: those days of history (four a day) are in it, the
    # other two years are not.
    assert 1 + 30 * 4 <= body.count(b"BEGIN:VEVENT") <= 1 + 31 * 4
    [feed] = _holds_reads(reads)
    _check(runtime.db, [feed])
