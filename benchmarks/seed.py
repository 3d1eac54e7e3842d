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
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import text

from openvisit.auth.tokens import create_token
from openvisit.bookings import businesses, records
from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.bookings.authority import Authority
from openvisit.bookings.services import SERVICES
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.clock import SystemClock
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade

SEED = 20261122
STAFF = 20
APPOINTMENTS = 5_000
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


def plan(start_day: date, rng: random.Random) -> list[Planned]:
    """5,000 non-overlapping appointments (buffers included) inside working hours."""
    pool: list[Planned] = []
    weights = [shape.weight for shape in SERVICE_SHAPES]
    for staff in range(STAFF):
        for offset in range(DAYS):
            day = start_day + timedelta(days=offset)
            if day.weekday() >= len(WEEKDAYS):
                continue
            opens, closes = local(day, OPEN), local(day, CLOSE)
            cursor = opens  # the earliest instant the next buffered range may begin
            while True:
                cursor += timedelta(minutes=rng.choice((0, 0, 0, 15, 30)))
                shape = rng.choices(SERVICE_SHAPES, weights)[0]
                buffer = timedelta(minutes=shape.buffer_minutes)
                start = max(cursor + buffer, opens)
                start += timedelta(minutes=-(start.minute % 5))  # back onto a 5-minute grid
                if start - buffer < cursor:
                    start += timedelta(minutes=5)
                end = start + timedelta(minutes=shape.minutes)
                if end > closes:
                    break
                seats = rng.randint(1, 4) if shape.capacity > 1 else 1
                pool.append(Planned(staff, shape, start, seats))
                cursor = end + buffer
    if len(pool) < APPOINTMENTS:
        raise RuntimeError(f"the day plans hold only {len(pool)} appointments")
    chosen = rng.sample(pool, APPOINTMENTS)
    return sorted(chosen, key=lambda item: (item.start, item.staff))


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
    service_ids = {
        shape.key: records.create_record(
            db,
            clock,
            SERVICES,
            business.id,
            {
                "display_name": shape.name,
                "default_duration_seconds": shape.minutes * 60,
                "pre_buffer_seconds": shape.buffer_minutes * 60,
                "post_buffer_seconds": shape.buffer_minutes * 60,
                "maximum_attendees_count": shape.capacity,
                "staff_member_ids": staff_ids,
            },
            actor="benchmark",
        ).id
        for shape in SERVICE_SHAPES
    }
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


def token(db: Database, scopes: str) -> str:
    """A new API token's secret."""
    _info, secret = create_token(db, SystemClock(), name=f"benchmark {scopes}", scopes=scopes)
    return secret


def double_bookings(db: Database) -> int:
    """Pairs of holds of one staff member whose buffered ranges overlap (must be 0).

    Holds of one group sitting share a group_key and may share the time.
    """
    with db.read() as session:
        return int(
            session.execute(
                text(
                    "SELECT count(*) FROM staff_holds a JOIN staff_holds b"
                    " ON a.staff_id = b.staff_id AND a.appointment_id < b.appointment_id"
                    " AND a.group_key <> b.group_key"
                    " AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end"
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
