"""A large clinic's booking page: 300 staff x 30 days through the compact slot listing.

The clinic: weekday business hours 08:00-20:00 and Saturday 09:00-14:00 (America/New_York),
a 15-minute grid, 2-hour lead time, 120-day advance; 300 staff on four shift patterns
(early 08:00-16:00, day 09:00-17:00, late 12:00-20:00, part-time Monday/Wednesday/Friday
09:00-13:00 and Saturday), each in their own hours; two services given by everyone (a
30-minute visit with 10-minute buffers, a 60-minute group class of 5 seats). Bookings
fill about two thirds of staff time over 37 days, drawn from a fixed seed as in seed.py:
random day plans (visit, 60-minute consultation, group class weighted 6/3/1, gaps of
0-30 minutes), two thirds of them kept.

Business, staff and services are created through the services; the ~30,000 bookings are
written in bulk (appointment rows plus the holds `appointments.holds.holds_of` builds),
because booking them one by one would take minutes per database and only their rows
matter to a read.

Timed over HTTP against `openvisit serve` (1 worker) in another process, from sending
the request to the last byte, p50 and p95 of `--repeat` runs after two warm-ups:

- openvisit.slotCounts, visit, 300 staff x 30 days (the target: under 150 ms);
- the same for the group class; and with includeStaffIds for 7 days;
- for comparison, availableSlots for the same 30 days, and getStaffAvailability for the
  same staff and window (three calls of 100 staff, Graph's shape allows no more per call
  here), summed.

Run alone: `.venv/bin/python benchmarks/slot_listing.py [--repeat 20]
[--backends sqlite postgresql]`; benchmarks/run.py runs it after its other figures.
PostgreSQL uses its own database `openvisit_bench_slots`, dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from harness import load_average, percentile, server
from seed import (
    POSTGRES_ADMIN_URL,
    SERVICE_SHAPES,
    ZONE,
    ZONE_NAME,
    ServiceShape,
    create_services,
    first_day,
    local,
    token,
)
from sqlalchemy import insert

from openvisit.bookings import businesses, records
from openvisit.bookings.appointments.holds import holds_of
from openvisit.bookings.slot_listing import list_slot_counts
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.clock import SystemClock
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.slots import ServiceSpec
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade
from openvisit.store.models import Appointment, StaffHold, table_of

SEED = 20261201
STAFF = 300
WINDOW_DAYS = 30
BOOKED_DAYS = 37  # the window plus a week, so reads near its end meet bookings too
KEEP = 2 / 3
DATABASE = "openvisit_bench_slots"
READ_SCOPES = "Bookings.Read.All"
TARGET_MS = 150.0


@dataclass(frozen=True)
class Shift:
    name: str
    hours: dict[str, tuple[str, str]]  # weekday -> (start, end), local


WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday")
SHIFTS = (
    Shift("early", dict.fromkeys(WEEK, ("08:00", "16:00"))),
    Shift("day", dict.fromkeys(WEEK, ("09:00", "17:00"))),
    Shift("late", dict.fromkeys(WEEK, ("12:00", "20:00"))),
    Shift(
        "part-time",
        {
            **dict.fromkeys(("monday", "wednesday", "friday"), ("09:00", "13:00")),
            "saturday": ("09:00", "14:00"),
        },
    ),
)
WEEKDAYS = (*WEEK, "saturday", "sunday")


@dataclass
class Clinic:
    id: str
    staff_ids: list[str]
    service_ids: dict[str, str]
    first_day: date
    appointments: int


def _hours_json(shift: Shift) -> list[dict[str, Any]]:
    return [
        {
            "day": day,
            "timeSlots": (
                [{"startTime": f"{shift.hours[day][0]}:00", "endTime": f"{shift.hours[day][1]}:00"}]
                if day in shift.hours
                else []
            ),
        }
        for day in WEEKDAYS
    ]


def seed_clinic(db: Database, start_day: date) -> Clinic:
    clock = SystemClock()
    business = businesses.create_business(
        db,
        clock,
        {
            "display_name": f"Large Clinic {uuid.uuid4().hex[:6]}",
            "default_currency_iso": "USD",
            "business_hours": [
                *(
                    {"day": day, "timeSlots": [{"startTime": "08:00:00", "endTime": "20:00:00"}]}
                    for day in WEEK
                ),
                {
                    "day": "saturday",
                    "timeSlots": [{"startTime": "09:00:00", "endTime": "14:00:00"}],
                },
            ],
            "booking_page_settings": {"businessTimeZone": ZONE_NAME},
            "scheduling_policy": {
                "timeSlotInterval": "PT15M",
                "minimumLeadTime": "PT2H",
                "maximumAdvance": "P120D",
                "allowStaffSelection": True,
            },
        },
        id_domain="bench.openvisit.local",
        actor="benchmark",
    )
    shifts = [SHIFTS[n % len(SHIFTS)] for n in range(STAFF)]
    staff_ids = [
        records.create_record(
            db,
            clock,
            STAFF_MEMBERS,
            business.id,
            {
                "display_name": f"Dr. Large {n:03d}",
                "role": "teamMember",
                "email_address": f"large{n:03d}@example.test",
                "use_business_hours": False,
                "time_zone": ZONE_NAME,
                "working_hours": _hours_json(shift),
            },
            actor="benchmark",
        ).id
        for n, shift in enumerate(shifts)
    ]
    # No staffMemberIds: a service given by everyone (Graph's list holds at most 100).
    service_ids = create_services(db, clock, business.id, SERVICE_SHAPES)
    count = _book_in_bulk(db, business.id, staff_ids, shifts, service_ids, start_day)
    return Clinic(business.id, staff_ids, service_ids, start_day, count)


def _plan(
    shift: Shift, start_day: date, rng: random.Random
) -> Iterator[tuple[ServiceShape, datetime]]:
    """A day plan for every working day: non-overlapping bookings (buffers included)."""
    weights = [kind.weight for kind in SERVICE_SHAPES]
    for offset in range(BOOKED_DAYS):
        day = start_day + timedelta(days=offset)
        hours = shift.hours.get(WEEKDAYS[day.weekday()])
        if hours is None:
            continue
        opens = local(day, datetime.strptime(hours[0], "%H:%M").time())  # noqa: DTZ007
        closes = local(day, datetime.strptime(hours[1], "%H:%M").time())  # noqa: DTZ007
        cursor = opens
        while True:
            cursor += timedelta(minutes=rng.choice((0, 0, 0, 15, 30)))
            kind = rng.choices(SERVICE_SHAPES, weights)[0]
            buffer = timedelta(minutes=kind.buffer_minutes)
            start = max(cursor + buffer, opens)
            start += timedelta(minutes=(-start.minute) % 15)  # onto the 15-minute grid
            end = start + timedelta(minutes=kind.minutes)
            if end > closes:
                break
            if rng.random() < KEEP:
                yield kind, start
            cursor = end + buffer


def _book_in_bulk(
    db: Database,
    business_id: str,
    staff_ids: list[str],
    shifts: list[Shift],
    service_ids: dict[str, str],
    start_day: date,
) -> int:
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    appointments: list[dict[str, Any]] = []
    holds: list[dict[str, Any]] = []
    for staff_id, shift in zip(staff_ids, shifts, strict=True):
        for kind, start in _plan(shift, start_day, rng):
            spec = ServiceSpec(
                service_ids[kind.key],
                duration=timedelta(minutes=kind.minutes),
                pre_buffer=timedelta(minutes=kind.buffer_minutes),
                post_buffer=timedelta(minutes=kind.buffer_minutes),
                capacity=kind.capacity,
            )
            seats = rng.randint(1, 4) if kind.capacity > 1 else 1
            row = {
                "id": str(uuid.uuid4()),
                "business_id": business_id,
                "service_id": spec.id,
                "display_name": kind.name,
                "created_date_time": now,
                "last_updated_date_time": now,
                "start_date_time": start,
                "end_date_time": start + spec.duration,
                "pre_buffer_seconds": kind.buffer_minutes * 60,
                "post_buffer_seconds": kind.buffer_minutes * 60,
                "blocked_start": spec.blocked(start).start,
                "blocked_end": spec.blocked(start).end,
                "staff_member_ids": [staff_id],
                "customers": [{"name": f"Customer {n}"} for n in range(seats)],
                "seats": seats,
                "maximum_attendees_count": kind.capacity,
                "details": {},
                "status": "booked",
            }
            appointments.append(row)
            holds += holds_of(row, spec)
    with db.write() as session:
        for first in range(0, len(appointments), 2000):
            session.execute(insert(table_of(Appointment)), appointments[first : first + 2000])
        for first in range(0, len(holds), 2000):
            session.execute(insert(table_of(StaffHold)), holds[first : first + 2000])
    return len(appointments)


@dataclass(frozen=True)
class Timing:
    label: str
    p50: float
    p95: float
    size: int  # response bytes (summed over the calls of one figure)
    note: str = ""


def _time(
    label: str, call: Callable[[], list[httpx.Response]], repeat: int, note: str = ""
) -> Timing:
    for _ in range(2):
        call()
    samples: list[float] = []
    size = 0
    for _ in range(repeat):
        began = time.perf_counter()
        responses = call()
        samples.append((time.perf_counter() - began) * 1000)
        size = sum(len(response.content) for response in responses)
    return Timing(label, statistics.median(samples), percentile(samples, 0.95), size, note)


def http_timings(base: str, secret: str, clinic: Clinic, repeat: int) -> list[Timing]:
    root = f"{base}/v1.0/solutions/bookingBusinesses/{clinic.id}"
    first = clinic.first_day
    last = first + timedelta(days=WINDOW_DAYS - 1)  # `end` is an inclusive date
    month = {"start": first.isoformat(), "end": last.isoformat()}
    week = {"start": first.isoformat(), "end": (first + timedelta(days=6)).isoformat()}
    with httpx.Client(headers={"Authorization": f"Bearer {secret}"}, timeout=120) as client:

        def get(
            service: str, name: str, params: dict[str, str]
        ) -> Callable[[], list[httpx.Response]]:
            url = f"{root}/services/{clinic.service_ids[service]}/{name}"

            def call() -> list[httpx.Response]:
                response = client.get(url, params=params)
                response.raise_for_status()
                return [response]

            return call

        def staff_availability() -> list[httpx.Response]:
            answers = []
            for start in range(0, len(clinic.staff_ids), 100):
                body = {
                    "staffIds": clinic.staff_ids[start : start + 100],
                    "startDateTime": {"dateTime": f"{first}T00:00:00", "timeZone": ZONE_NAME},
                    "endDateTime": {
                        "dateTime": f"{first + timedelta(days=WINDOW_DAYS)}T00:00:00",
                        "timeZone": ZONE_NAME,
                    },
                }
                response = client.post(f"{root}/getStaffAvailability", json=body)
                response.raise_for_status()
                answers.append(response)
            return answers

        counts = get("visit", "openvisit.slotCounts", month)()[0].json()["value"]
        slow = max(2, repeat // 4)  # the old paths take seconds a call
        return [
            _time(
                "openvisit.slotCounts, visit, 300 staff x 30 days",
                get("visit", "openvisit.slotCounts", month),
                repeat,
                f"{len(counts)} starts",
            ),
            _time(
                "openvisit.slotCounts, group class, 300 staff x 30 days",
                get("group", "openvisit.slotCounts", month),
                repeat,
            ),
            _time(
                "openvisit.slotCounts + includeStaffIds, visit, 7 days",
                get("visit", "openvisit.slotCounts", {**week, "includeStaffIds": "true"}),
                repeat,
            ),
            _time(
                "availableSlots, visit, 300 staff x 30 days",
                get("visit", "availableSlots", month),
                slow,
            ),
            _time(
                "getStaffAvailability, 300 staff x 30 days (3 calls)",
                staff_availability,
                slow,
            ),
        ]


def service_timing(db: Database, clinic: Clinic, repeat: int) -> Timing:
    """The service in this process: database reads and the engine, no HTTP."""
    start = datetime.combine(clinic.first_day, datetime.min.time(), tzinfo=ZONE)
    window = Interval(start, start + timedelta(days=WINDOW_DAYS))
    clock = SystemClock()

    def call() -> list[httpx.Response]:
        list_slot_counts(db, clock, clinic.id, clinic.service_ids["visit"], window)
        return []

    return _time("list_slot_counts, visit, 300 staff x 30 days (in process)", call, repeat)


def _postgres_url() -> str:
    _drop_postgres()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"


def _drop_postgres() -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def report(backends: list[str], repeat: int) -> list[str]:
    """Seed, serve and time each backend; the lines to print."""
    lines = [
        f"\nLarge clinic: {STAFF} staff, compact slot listing (target < {TARGET_MS:g} ms);"
        f" load average {load_average()}"
    ]
    with tempfile.TemporaryDirectory(prefix="openvisit-bench-slots-") as folder:
        for name in backends:
            try:
                url = _postgres_url() if name == "postgresql" else f"sqlite:///{folder}/slots.db"
                upgrade(url)
                db = Database(url)
                began = time.perf_counter()
                clinic = seed_clinic(db, first_day())
                lines.append(
                    f"  {name}: seeded {STAFF} staff and {clinic.appointments:,} appointments"
                    f" in {time.perf_counter() - began:.0f} s"
                )
                timings = [service_timing(db, clinic, repeat)]
                secret = token(db, READ_SCOPES)
                db.dispose()
                with server(url, Path(folder) / f"server-{name}") as served:
                    timings += http_timings(served.base, secret, clinic, repeat)
            finally:
                if name == "postgresql":
                    _drop_postgres()
            for timing in timings:
                lines.append(
                    f"    {timing.label:<58} p50 {timing.p50:8.1f} ms  p95 {timing.p95:8.1f} ms"
                    f"  {timing.size / 1000:9.1f} KB  {timing.note}"
                )
            met = "met" if timings[1].p50 < TARGET_MS else "MISSED"
            lines.append(
                f"    target (p50 of the first HTTP line < {TARGET_MS:g} ms): {met};"
                f" load average now {load_average()}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per figure")
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    print("\n".join(report(args.backends, args.repeat)))


if __name__ == "__main__":
    main()
