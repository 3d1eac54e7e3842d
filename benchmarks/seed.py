"""The benchmark business, built through the real services on a fresh database.

20 staff members on the business's weekday hours (09:00-17:00, America/New_York), three
services (a 30-minute visit with 10-minute buffers either side, a 60-minute consultation,
a 60-minute group class of 5 seats) and 5,000 appointments over 60 days.

The appointments are drawn from a fixed seed: for every staff member and weekday a
random day plan is laid out (services chosen with weights 60/30/10, gaps of 0-30 minutes,
starts on a 5-minute grid, everything inside working hours), and 5,000 of those planned
appointments are then sampled. Days count from the first Monday at least two days after
the run (the server's clock is the real one, so the calendar must lie in the future); the
weekday pattern, and therefore every figure, is the same whatever day the run starts.

Every record, the 5,000 appointments included, is written through the services the API
uses (`create_business`, `records.create_record`, `appointments.book` with a manager's
`Authority(override_hours=True)`), so the rows, holds and audit records are exactly what
the server would have written.

`add_history` then gives the same business a past: working days before today, packed
the way a busy clinic's are (group classes filled by several bookings, some bookings
cancelled and their time booked again), with customers drawn from 8,000 patients, until
the database holds the asked number of appointments (200,000 by default: about two years).
Those rows are written in bulk, in the shapes `appointments.book` and `cancel` write
(appointment, holds of booked ones, audit rows, customer records): through the services
they would take half an hour, and only what they leave in the tables matters.
"""

from __future__ import annotations

import json
import random
import time as timer
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import JSON, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from openvisit.auth.tokens import create_token
from openvisit.bookings import businesses, records
from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.bookings.authority import Authority
from openvisit.bookings.services import SERVICES
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.clock import Clock, SystemClock
from openvisit.scheduling.booking import group_key
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade
from openvisit.store.models import (
    Appointment,
    AuditRecord,
    Base,
    Customer,
    StaffHold,
    table_of,
)

SEED = 20261122
STAFF = 20
APPOINTMENTS = 5_000
WITH_HISTORY = 200_000  # appointments in all once `add_history` has run
PATIENTS = 8_000  # the customers past appointments are drawn from
CANCELLED_SHARE = 0.08  # past bookings cancelled (their time was then booked again)
GROUP_BOOKINGS = (3, 5)  # separate bookings filling a past group class
DAYS = 60
ZONE_NAME = "America/New_York"
ZONE = ZoneInfo(ZONE_NAME)
OPEN, CLOSE = time(9), time(17)
GRID = timedelta(minutes=15)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
POLICY = {
    "timeSlotInterval": "PT15M",
    "minimumLeadTime": "PT2H",
    "maximumAdvance": "P120D",
    "allowStaffSelection": True,
}
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_BENCH_DB = "openvisit_bench"
MANAGER = Authority(actor="benchmark", override_hours=True)


@dataclass(frozen=True)
class ServiceShape:
    key: str
    name: str
    minutes: int
    buffer_minutes: int = 0
    capacity: int = 1
    weight: int = 1


SERVICE_SHAPES = (
    ServiceShape("visit", "Visit", 30, buffer_minutes=10, weight=6),
    ServiceShape("consultation", "Consultation", 60, weight=3),
    ServiceShape("group", "Group class", 60, capacity=5, weight=1),
)
# A busy clinic's past: classes run more often than the future sample shows, so a
# working day holds about 19 bookings per staff member and 200,000 fill about two years.
HISTORY_WEIGHTS = (4, 2, 4)


@dataclass(frozen=True)
class Planned:
    staff: int  # index into the staff list
    service: ServiceShape
    start: datetime  # UTC
    seats: int


@dataclass
class Business:
    """What the benchmarks need to know about the seeded business."""

    id: str
    staff_ids: list[str]
    service_ids: dict[str, str]  # ServiceShape.key -> id
    first_day: date  # the first (Monday) day of the seeded 60 days, business-local


def first_day(today: date | None = None) -> date:
    """The first Monday at least two days after today (business-local)."""
    today = today or datetime.now(ZONE).date()
    day = today + timedelta(days=2)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)


def day_plan(
    staff: int,
    day: date,
    rng: random.Random,
    weights: Sequence[int],
    gaps: Sequence[int] = (0, 0, 0, 15, 30),
) -> Iterator[Planned]:
    """One staff member's appointments of one day, packed from opening time: services
    drawn with `weights`, a gap of minutes drawn from `gaps` before each, starts on a
    5-minute grid, buffered ranges never overlapping, everything inside working hours."""
    opens, closes = local(day, OPEN), local(day, CLOSE)
    cursor = opens  # the earliest instant the next buffered range may begin
    while True:
        cursor += timedelta(minutes=rng.choice(gaps))
        shape = rng.choices(SERVICE_SHAPES, weights)[0]
        buffer = timedelta(minutes=shape.buffer_minutes)
        start = max(cursor + buffer, opens)
        start += timedelta(minutes=-(start.minute % 5))  # back onto a 5-minute grid
        if start - buffer < cursor:
            start += timedelta(minutes=5)
        end = start + timedelta(minutes=shape.minutes)
        if end > closes:
            return
        seats = rng.randint(1, 4) if shape.capacity > 1 else 1
        yield Planned(staff, shape, start, seats)
        cursor = end + buffer


def plan(start_day: date, rng: random.Random) -> list[Planned]:
    """5,000 non-overlapping appointments (buffers included) inside working hours."""
    pool: list[Planned] = []
    weights = [shape.weight for shape in SERVICE_SHAPES]
    for staff in range(STAFF):
        for offset in range(DAYS):
            day = start_day + timedelta(days=offset)
            if day.weekday() < len(WEEKDAYS):
                pool.extend(day_plan(staff, day, rng, weights))
    if len(pool) < APPOINTMENTS:
        raise RuntimeError(f"the day plans hold only {len(pool)} appointments")
    chosen = rng.sample(pool, APPOINTMENTS)
    return sorted(chosen, key=lambda item: (item.start, item.staff))


def create_services(
    db: Database,
    clock: Clock,
    business_id: str,
    shapes: Sequence[ServiceShape],
    staff_ids: Sequence[str] | None = None,
) -> dict[str, str]:
    """Create each shape as a service (given by `staff_ids`, or by everyone); key -> id."""
    staffing = {} if staff_ids is None else {"staff_member_ids": list(staff_ids)}
    return {
        shape.key: records.create_record(
            db,
            clock,
            SERVICES,
            business_id,
            {
                "display_name": shape.name,
                "default_duration_seconds": shape.minutes * 60,
                "pre_buffer_seconds": shape.buffer_minutes * 60,
                "post_buffer_seconds": shape.buffer_minutes * 60,
                "maximum_attendees_count": shape.capacity,
                **staffing,
            },
            actor="benchmark",
        ).id
        for shape in shapes
    }


def seed(db: Database, *, start_day: date | None = None) -> Business:
    """Create the business, its staff and services, and book the 5,000 appointments."""
    clock = SystemClock()
    start_day = start_day or first_day()
    hours = [
        {"day": day, "timeSlots": [{"startTime": "09:00:00", "endTime": "17:00:00"}]}
        for day in WEEKDAYS
    ]
    business = businesses.create_business(
        db,
        clock,
        {
            "display_name": f"Benchmark Clinic {uuid.uuid4().hex[:6]}",
            "default_currency_iso": "USD",
            "business_hours": hours,
            "booking_page_settings": {"businessTimeZone": ZONE_NAME},
            "scheduling_policy": POLICY,
        },
        id_domain="bench.openvisit.local",
        actor="benchmark",
    )
    staff_ids = [
        records.create_record(
            db,
            clock,
            STAFF_MEMBERS,
            business.id,
            {
                "display_name": f"Dr. Staff {n:02d}",
                "role": "administrator",
                "email_address": f"staff{n:02d}@example.test",
                "use_business_hours": True,
            },
            actor="benchmark",
        ).id
        for n in range(STAFF)
    ]
    service_ids = create_services(db, clock, business.id, SERVICE_SHAPES, staff_ids)
    for n, item in enumerate(plan(start_day, random.Random(SEED))):
        customers = tuple(
            {"name": f"Customer {n}-{seat}", "emailAddress": f"c{n}.{seat}@example.test"}
            for seat in range(item.seats)
        )
        book(
            db,
            clock,
            business.id,
            AppointmentRequest(
                service_id=service_ids[item.service.key],
                start=item.start,
                staff_ids=(staff_ids[item.staff],),
                customers=customers,
            ),
            authority=MANAGER,
        )
    return Business(business.id, staff_ids, service_ids, start_day)


@dataclass(frozen=True)
class History:
    appointments: int  # rows in the table afterwards, future ones included
    first_day: date  # the earliest past day written
    seconds: float


def add_history(db: Database, business: Business, total: int = WITH_HISTORY) -> History:
    """Past appointments of the seeded staff until the table holds `total` rows.

    Walks back from yesterday one working day at a time; every day is a full one (see
    HISTORY_WEIGHTS). A group class is filled by 3-5 separate one-seat bookings sharing
    its hold key; one booking in CANCELLED_SHARE has a cancelled twin at the same time
    (status cancelled, no hold), as when a patient cancels and the slot is rebooked.
    Statistics are gathered on PostgreSQL afterwards, as autovacuum would within a
    minute; SQLite keeps none, as the server never runs ANALYZE.
    """
    began = timer.perf_counter()
    rng = random.Random(SEED + 1)
    with db.read() as session:
        have = int(session.execute(text("SELECT count(*) FROM appointments")).scalar_one())
        details = session.execute(text("SELECT details FROM appointments LIMIT 1")).scalar_one()
    details = json.loads(details) if isinstance(details, str) else details
    wanted = total - have
    now = datetime.now(UTC)
    patients = [_patient(business, n, now - timedelta(days=800)) for n in range(PATIENTS)]
    appointments: list[dict[str, Any]] = []
    holds: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    day = datetime.now(ZONE).date()
    while len(appointments) < wanted:
        day -= timedelta(days=1)
        if day.weekday() >= len(WEEKDAYS):
            continue
        for staff in range(STAFF):
            staff_id = business.staff_ids[staff]
            for item in day_plan(staff, day, rng, HISTORY_WEIGHTS, gaps=(0, 0, 0, 0, 15)):
                shape = item.service
                sitting = rng.randint(*GROUP_BOOKINGS) if shape.capacity > 1 else 1
                for _ in range(sitting):
                    for cancelled in (True, False) if rng.random() < CANCELLED_SHARE else (False,):
                        row = _past_row(business, staff_id, item, rng.choice(patients), details)
                        row["status"] = "cancelled" if cancelled else "booked"
                        appointments.append(row)
                        audit.append(
                            _audit(row, "booked", {"businessId": business.id, "staff": [staff_id]})
                        )
                        if cancelled:
                            row["cancelled_date_time"] = row["last_updated_date_time"]
                            row["cancellation_message"] = "Cancelled by the patient."
                            audit.append(_audit(row, "cancelled", {"message": ""}))
                        else:
                            key = row["id"]
                            if shape.capacity > 1:
                                key = group_key(row["service_id"], item.start, row["end_date_time"])
                            holds.append(
                                {
                                    "appointment_id": row["id"],
                                    "staff_id": staff_id,
                                    "business_id": business.id,
                                    "blocked_start": row["blocked_start"],
                                    "blocked_end": row["blocked_end"],
                                    "group_key": key,
                                }
                            )
    del appointments[wanted:]  # the last day is cut short: every figure counts rows
    kept = {row["id"] for row in appointments}
    holds = [hold for hold in holds if hold["appointment_id"] in kept]
    audit = [entry for entry in audit if entry["subject"] in kept]
    for model, rows in (
        (Customer, patients),
        (Appointment, appointments),
        (StaffHold, holds),
        (AuditRecord, audit),
    ):
        bulk_insert(db, model, rows)
    gather_statistics(db)
    return History(have + len(appointments), day, timer.perf_counter() - began)


def gather_statistics(db: Database) -> None:
    """ANALYZE on PostgreSQL, as autovacuum does within a minute of a bulk change.

    Not on SQLite: the server never runs ANALYZE there, so its planner has no statistics
    in service either, and the benchmark measures what the server would do."""
    if not db.is_sqlite:
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def bulk_insert(db: Database, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Rows written past SQLAlchemy's per-value processing (most of the time for 200,000
    rows): stored forms are computed once per distinct value, JSON dumped directly, and
    the rows go to the driver in one executemany (SQLite) or one COPY (PostgreSQL)."""
    if not rows:
        return
    table = table_of(model)
    names = list(rows[0])
    dialect = db.engine.dialect
    converters = [_converter(table.c[name].type, dialect) for name in names]
    values = [
        tuple(convert(row[name]) for name, convert in zip(names, converters, strict=True))
        for row in rows
    ]
    columns = ", ".join(names)
    with db.engine.begin() as connection:
        if db.is_sqlite:
            marks = ", ".join("?" * len(names))
            connection.exec_driver_sql(
                f"INSERT INTO {table.name} ({columns}) VALUES ({marks})",  # noqa: S608
                values,
            )
            return
        raw = connection.connection.driver_connection
        if raw is None:
            raise RuntimeError("no driver connection")
        with raw.cursor().copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for item in values:
                copy.write_row(item)


def _converter(kind: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """Python value -> what the driver is given, as SQLAlchemy would bind it."""
    if isinstance(kind._type_affinity, type) and issubclass(kind._type_affinity, JSON):
        return lambda raw: None if raw is None else json.dumps(raw)
    processor = kind._cached_bind_processor(dialect)
    if processor is None:
        return lambda raw: raw
    known: dict[Any, Any] = {}  # timestamps repeat: every grid time of every day

    def convert(raw: Any) -> Any:
        if raw not in known:
            known[raw] = None if raw is None else processor(raw)
        return known[raw]

    return convert


def _patient(business: Business, n: int, since: datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "business_id": business.id,
        "display_name": f"Patient {n:05d}",
        "email_address": f"patient{n:05d}@example.test",
        "phones": [],
        "addresses": [],
        "created_date_time": since,
        "last_updated_date_time": since,
    }


def _past_row(
    business: Business,
    staff_id: str,
    item: Planned,
    patient: dict[str, Any],
    details: dict[str, Any],
) -> dict[str, Any]:
    """An appointment row as `appointments.book` writes it, booked a week ahead."""
    shape = item.service
    buffer = timedelta(minutes=shape.buffer_minutes)
    end = item.start + timedelta(minutes=shape.minutes)
    made = item.start - timedelta(days=7)
    return {
        "id": str(uuid.uuid4()),
        "business_id": business.id,
        "display_name": shape.name,
        "service_id": business.service_ids[shape.key],
        "start_date_time": item.start,
        "end_date_time": end,
        "pre_buffer_seconds": shape.buffer_minutes * 60,
        "post_buffer_seconds": shape.buffer_minutes * 60,
        "blocked_start": item.start - buffer,
        "blocked_end": end + buffer,
        "staff_member_ids": [staff_id],
        "customers": [
            {
                "customerId": patient["id"],
                "name": patient["display_name"],
                "emailAddress": patient["email_address"],
            }
        ],
        "customer_time_zone": ZONE_NAME,
        "seats": 1,
        "maximum_attendees_count": shape.capacity,
        "details": details,
        "status": "booked",
        "cancellation_message": None,
        "cancelled_date_time": None,
        "created_date_time": made,
        "last_updated_date_time": made,
    }


def _audit(row: dict[str, Any], action: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": f"openvisit.appointment.{action}",
        "actor": "benchmark",
        "subject": row["id"],
        "at": row["last_updated_date_time"],
        "data": data,
    }


def token(db: Database, scopes: str) -> str:
    """A new API token's secret."""
    _info, secret = create_token(db, SystemClock(), name=f"benchmark {scopes}", scopes=scopes)
    return secret


def double_bookings(db: Database) -> int:
    """Sittings that overlap an earlier sitting of the same staff member (must be 0).

    The holds of one group sitting share a group_key and the time, so they are folded
    into one range first; then each staff member's ranges, in start order, are compared
    with the latest end before them. That is one sort, where a self-join of the holds
    compared every pair and took minutes on the 200,000-row database.
    """
    with db.read() as session:
        return int(
            session.execute(
                text(
                    "WITH sittings AS ("
                    " SELECT staff_id, group_key, min(blocked_start) AS s, max(blocked_end) AS e"
                    " FROM staff_holds GROUP BY staff_id, group_key),"
                    " ordered AS ("
                    " SELECT s, max(e) OVER (PARTITION BY staff_id ORDER BY s, e, group_key"
                    " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS latest_end"
                    " FROM sittings)"
                    " SELECT count(*) FROM ordered WHERE s < latest_end"
                )
            ).scalar_one()
        )


def sqlite_url(folder: str) -> str:
    return f"sqlite:///{folder}/openvisit.db"


def create_postgres() -> str:
    """A fresh `openvisit_bench` database, migrated; returns its URL."""
    drop_postgres()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{POSTGRES_BENCH_DB}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{POSTGRES_BENCH_DB}"
    upgrade(url)
    return url


def drop_postgres() -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_BENCH_DB}" WITH (FORCE)')
