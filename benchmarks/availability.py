"""Availability read paths, each at three depths: the engine, the service, the HTTP API.

- engine: what `bookings.availability` does after its database reads (working hours
  expanded with `bookable_time`/`working_intervals`, then `available_slots` or
  `availability_items`), on inputs loaded once from the seeded database;
- service: `list_slots` / `staff_availability` in this process (database reads included);
- HTTP: the running server in another process, timed from sending the request to the
  last byte of the response (the client does not parse the JSON inside the timing).

Run alone: `.venv/bin/python benchmarks/availability.py [--repeat 15]` (SQLite only);
`benchmarks/run.py` runs it on both databases together with the booking benchmark.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
from harness import Backend, Comparison, Probe, compare, server
from seed import APPOINTMENTS, ZONE, ZONE_NAME, Business, seed, sqlite_url, token

from openvisit.bookings.availability import (
    MAX_BUFFER,
    bookable_time,
    booking_policy,
    list_slots,
    service_spec,
    staff_availability,
    staff_hours,
)
from openvisit.bookings.records import require_business
from openvisit.clock import SystemClock
from openvisit.scheduling.hours import working_intervals
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.slots import StaffWork, available_slots
from openvisit.scheduling.staff_availability import availability_items
from openvisit.store.booking_queries import staff_bookings
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade
from openvisit.store.models import Service, StaffMember

READ_SCOPES = "Bookings.Read.All"
SLOT_SERVICE = "visit"  # 30 minutes with 10-minute buffers: the most involved rules
MONTH = 30


def window(first: date, days: int) -> Interval:
    return Interval(
        datetime.combine(first, time(0), tzinfo=ZONE),
        datetime.combine(first + timedelta(days=days), time(0), tzinfo=ZONE),
    )


def engine_probes(db: Database, business: Business) -> list[Probe]:
    """The engine alone on inputs loaded the way `bookings.availability` loads them."""
    clock = SystemClock()
    month = window(business.first_day, MONTH)
    day = window(business.first_day + timedelta(days=1), 1)  # a Tuesday
    with db.read() as session:
        row = require_business(session, business.id)
        service = session.get(Service, business.service_ids[SLOT_SERVICE])
        if service is None:
            raise RuntimeError("the seeded service is missing")
        members = [session.get(StaffMember, staff_id) for staff_id in business.staff_ids]
        spec = service_spec(service)
        reach = Interval(month.start - MAX_BUFFER, month.end + spec.duration + MAX_BUFFER)
        busy = staff_bookings(session, business.staff_ids, reach)
        raw_busy = staff_bookings(session, business.staff_ids, month)
        capacity = {
            str(item.id): item.maximum_attendees_count
            for item in session.query(Service).filter(Service.business_id == row.id)
            if item.maximum_attendees_count > 1
        }
    staff = [member for member in members if member is not None]
    policy = booking_policy(service, row)
    everyone = [booking for bookings in busy.values() for booking in bookings]
    first = staff[0]
    first_day = [b for b in busy[first.id] if b.blocked.overlaps(day)]

    def slots(members: list[StaffMember], span: Interval) -> int:
        work = [StaffWork(m.id, bookable_time(m, row, span)) for m in members]
        bookings = everyone if len(members) > 1 else first_day
        return len(available_slots(spec, work, bookings, policy, now=clock.now(), window=span))

    def labelled() -> int:
        return sum(
            len(
                availability_items(
                    working_intervals(staff_hours(m, row), month),
                    raw_busy[m.id],
                    month,
                    capacity=capacity,
                )
            )
            for m in staff
        )

    count = slots(staff, month)
    return [
        Probe(
            "slots, 1 service, 20 staff x 30 days: engine",
            lambda: slots(staff, month),
            target=50,
            note=f"{count} slot starts, {len(everyone)} bookings",
        ),
        Probe(
            "getStaffAvailability, 20 staff x 30 days: engine",
            labelled,
            note=f"{labelled()} items",
        ),
        Probe("slots, 1 staff x 1 day: engine", lambda: slots([first], day), scale=4),
    ]


def service_probes(db: Database, business: Business) -> list[Probe]:
    """`list_slots` and `staff_availability` in this process: database reads included."""
    clock = SystemClock()
    month = window(business.first_day, MONTH)
    day = window(business.first_day + timedelta(days=1), 1)
    service_id = business.service_ids[SLOT_SERVICE]
    return [
        Probe(
            "slots, 1 service, 20 staff x 30 days: service",
            lambda: list_slots(db, clock, business.id, service_id, month),
        ),
        Probe(
            "getStaffAvailability, 20 staff x 30 days: service",
            lambda: staff_availability(db, business.id, business.staff_ids, month),
        ),
        Probe(
            "slots, 1 staff x 1 day: service",
            lambda: list_slots(
                db, clock, business.id, service_id, day, staff_id=business.staff_ids[0]
            ),
            scale=4,
        ),
    ]


@dataclass(frozen=True)
class Requests:
    """The three availability requests over HTTP, shared with breakdown.py."""

    slots_path: str  # below the business
    month_query: dict[str, str]  # slots for every staff member, 30 days
    day_query: dict[str, str]  # slots for one staff member, one day
    staff_body: dict[str, Any]  # getStaffAvailability, 20 staff x 30 days
    view_query: dict[str, str]  # calendarView of one day


def requests_for(business: Business) -> Requests:
    first = business.first_day
    last = first + timedelta(days=MONTH - 1)  # `end` is an inclusive date
    tuesday = first + timedelta(days=1)
    return Requests(
        slots_path=f"/services/{business.service_ids[SLOT_SERVICE]}/availableSlots",
        month_query={"start": first.isoformat(), "end": last.isoformat()},
        day_query={
            "start": tuesday.isoformat(),
            "end": tuesday.isoformat(),
            "staffMemberId": business.staff_ids[0],
        },
        view_query={
            "start": datetime.combine(tuesday, time(0), tzinfo=ZONE).isoformat(),
            "end": datetime.combine(tuesday + timedelta(days=1), time(0), tzinfo=ZONE).isoformat(),
        },
        staff_body={
            "staffIds": business.staff_ids,
            "startDateTime": {"dateTime": f"{first}T00:00:00", "timeZone": ZONE_NAME},
            "endDateTime": {
                "dateTime": f"{first + timedelta(days=MONTH)}T00:00:00",
                "timeZone": ZONE_NAME,
            },
        },
    )


@contextmanager
def http_probes(base: str, secret: str, business: Business) -> Iterator[list[Probe]]:
    """The API in another process; the body is read whole but not parsed inside the timing."""
    root = f"{base}/v1.0/solutions/bookingBusinesses/{business.id}"
    asked = requests_for(business)
    slots_url = root + asked.slots_path
    month_query, day_query, body = asked.month_query, asked.day_query, asked.staff_body
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(headers=headers, timeout=60) as client:

        def get(url: str, params: dict[str, str]) -> httpx.Response:
            response = client.get(url, params=params)
            response.raise_for_status()
            return response

        def post() -> httpx.Response:
            response = client.post(f"{root}/getStaffAvailability", json=body)
            response.raise_for_status()
            return response

        month = get(slots_url, month_query)
        labelled = post()
        day = get(slots_url, day_query)
        view = get(f"{root}/calendarView", asked.view_query)
        yield [
            Probe(
                "GET /healthz: HTTP (floor: client, server, framework)",
                lambda: client.get(f"{base}/healthz"),
                scale=4,
            ),
            Probe(
                "slots, 1 service, 20 staff x 30 days: HTTP",
                lambda: get(slots_url, month_query),
                target=150,
                note=f"{len(month.json()['value'])} slots, {len(month.content) / 1e6:.1f} MB",
            ),
            Probe(
                "getStaffAvailability, 20 staff x 30 days: HTTP",
                post,
                note=f"{len(labelled.content) / 1e6:.2f} MB",
            ),
            Probe(
                "slots, 1 staff x 1 day: HTTP",
                lambda: get(slots_url, day_query),
                scale=4,
                target=5,
                note=f"{len(day.json()['value'])} slots",
            ),
            Probe(
                "calendarView, 1 day, 20 staff: HTTP",
                lambda: get(f"{root}/calendarView", asked.view_query),
                scale=4,
                note=f"{len(view.json()['value'])} appointments",
            ),
        ]


def print_figures(title: str, figures: Sequence[Comparison], sizes: Sequence[int]) -> None:
    """One line per figure: its value at each size and, with two sizes, their ratio."""
    print(f"\n{title}")
    head = "".join(f"{f'{size:,} rows':>14}" for size in sizes)
    print(f"  {'':<54}{head}" + ("   ratio" if len(sizes) > 1 else ""))
    for figure in figures:
        values = "".join(f"{value:11.2f} {figure.unit:<2}" for value in figure.values)
        ratio = f"  {figure.ratio:5.2f}x" if len(sizes) > 1 else ""
        target = ""
        if figure.target is not None:
            bound = f">= {figure.target:g}/s" if figure.unit == "/s" else f"< {figure.target:g} ms"
            target = f"  (target {bound}: " + ("met)" if figure.met else "MISSED)")
        print(f"  {figure.label:<54}{values}{ratio}{target}  {figure.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openvisit-bench-") as folder:
        url = sqlite_url(folder)
        upgrade(url)
        db = Database(url)
        business = seed(db)
        backend = Backend("sqlite", url, Path(folder))
        sizes = [APPOINTMENTS]
        print_figures("engine", compare([engine_probes(db, business)], args.repeat), sizes)
        figures = compare([service_probes(db, business)], args.repeat)
        print_figures("service (SQLite)", figures, sizes)
        secret = token(db, READ_SCOPES)
        db.dispose()
        with (
            backend.fresh() as copy,
            server(copy, Path(folder) / "server") as served,
            http_probes(served.base, secret, business) as probes,
        ):
            figures = compare([probes], args.repeat)
        print_figures("HTTP (SQLite, 1 worker)", figures, sizes)


if __name__ == "__main__":
    main()
