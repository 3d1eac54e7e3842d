"""Where a request's time goes: the figures behind the causes in docs/performance.md.

The app runs in this process (Starlette's TestClient, one request at a time) on a working
copy of the seeded database, so SQLAlchemy's events can count what each request does:

- wall and CPU milliseconds per request (this process's CPU: server work plus the test
  client, whose own cost the /healthz line shows);
- database sessions (pool checkouts) and SQL statements per request (on SQLite each
  session's BEGIN counts as one);
- for booking, how long the write transaction lasts (on SQLite the whole database is
  locked for writers that long, which caps bookings per second at 1000 / that figure);
- loading the 20 staff x 30 days of bookings as full ORM entities (what
  `bookings.availability.staff_bookings` did before 94d3796) against the seven columns
  it selects now.

Run alone: `.venv/bin/python benchmarks/breakdown.py` (SQLite); `benchmarks/run.py` runs
it on both databases.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from availability import MONTH, READ_SCOPES, requests_for, window
from booking import WRITE_SCOPES, free_pairs, payload
from fastapi.testclient import TestClient
from harness import Backend
from seed import Business, seed, sqlite_url, token
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from openvisit.app import build_runtime, create_app
from openvisit.config import Settings
from openvisit.store.booking_queries import staff_bookings
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade
from openvisit.store.models import Appointment, StaffHold


@dataclass
class Counts:
    statements: int = 0
    checkouts: int = 0
    write_wall: float = 0.0  # seconds inside Database.write()


def _watch(db: Database) -> Counts:
    counts = Counts()

    def statement(*_args: Any) -> None:
        counts.statements += 1

    def checkout(*_args: Any) -> None:
        counts.checkouts += 1

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine.pool, "checkout", checkout)
    original = db.write

    @contextlib.contextmanager
    def timed_write() -> Iterator[Session]:
        began = time.perf_counter()
        try:
            with original() as session:
                yield session
        finally:
            counts.write_wall += time.perf_counter() - began

    db.write = timed_write  # type: ignore[method-assign]
    return counts


def _per_request(
    label: str, send: Callable[[int], object], counts: Counts, repeat: int, *, warmup: int = 3
) -> str:
    for n in range(warmup):
        send(-1 - n)
    counts.statements = counts.checkouts = 0
    counts.write_wall = 0.0
    walls, cpu = [], time.process_time()
    for n in range(repeat):
        began = time.perf_counter()
        send(n)
        walls.append((time.perf_counter() - began) * 1000)
    cpu = (time.process_time() - cpu) * 1000 / repeat
    text = (
        f"  {label:<44} wall {statistics.median(walls):7.2f} ms  CPU {cpu:7.2f} ms  "
        f"sessions {counts.checkouts / repeat:4.1f}  statements {counts.statements / repeat:5.1f}"
    )
    if counts.write_wall:
        text += f"  in write transaction {counts.write_wall * 1000 / repeat:5.2f} ms"
    return text


def _bookings_load(db: Database, business: Business, repeat: int) -> list[str]:
    month = window(business.first_day, MONTH)

    def entities() -> int:
        # The shape staff_bookings used to load (whole rows), kept as the reference cost.
        query = (
            select(StaffHold.staff_id, Appointment)
            .join(Appointment, Appointment.id == StaffHold.appointment_id)
            .where(
                StaffHold.staff_id.in_(business.staff_ids),
                StaffHold.blocked_start < month.end,
                StaffHold.blocked_end > month.start,
            )
        )
        with db.read() as session:
            return len(session.execute(query).all())

    def columns() -> int:
        with db.read() as session:
            return sum(map(len, staff_bookings(session, business.staff_ids, month).values()))

    rows = entities()
    lines = []
    for label, load in (
        ("full Appointment entities", entities),
        ("the 7 columns (staff_bookings)", columns),
    ):
        load()
        samples = []
        for _ in range(repeat):
            began = time.perf_counter()
            load()
            samples.append((time.perf_counter() - began) * 1000)
        lines.append(
            f"  load {rows} bookings (20 staff x 30 days) as {label:<26}"
            f" {statistics.median(samples):7.1f} ms"
        )
    return lines


def breakdown(backend: Backend, business: Business, repeat: int = 15) -> list[str]:
    """Per-request counts and costs, in-process, on a working copy of `backend`."""
    with backend.fresh() as url, tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder), database_url=url, secret_key=secrets.token_urlsafe(48)
        )
        runtime = build_runtime(settings)
        reader, writer = token(runtime.db, READ_SCOPES), token(runtime.db, WRITE_SCOPES)
        pairs = iter(free_pairs(runtime.db, business))
        counts = _watch(runtime.db)
        root = f"/v1.0/solutions/bookingBusinesses/{business.id}"
        asked = requests_for(business)
        slots = root + asked.slots_path
        month, day, body = asked.month_query, asked.day_query, asked.staff_body
        read = {"Authorization": f"Bearer {reader}"}
        write = {"Authorization": f"Bearer {writer}", "Content-Type": "application/json"}
        lines = [
            f"\nwhere the time goes ({backend.name}; app in this process behind Starlette's"
            " TestClient, one request at a time; the TestClient's own cost is the /healthz line)"
        ]
        lines += _bookings_load(runtime.db, business, repeat)
        with TestClient(create_app(runtime=runtime)) as client:

            def check(response: Any, status: int = 200) -> None:
                if response.status_code != status:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

            def book(n: int) -> None:
                job = next(pairs)
                response = client.post(
                    f"{root}/appointments", content=payload(business, job, n), headers=write
                )
                check(response, 201)

            requests: list[tuple[str, Callable[[int], object], int]] = [
                ("GET /healthz (framework + test client)", lambda _n: client.get("/healthz"), 4),
                (
                    "slots, 1 staff x 1 day",
                    lambda _n: check(client.get(slots, params=day, headers=read)),
                    4,
                ),
                (
                    "slots, 20 staff x 30 days",
                    lambda _n: check(client.get(slots, params=month, headers=read)),
                    1,
                ),
                (
                    "getStaffAvailability, 20 staff x 30 days",
                    lambda _n: check(
                        client.post(f"{root}/getStaffAvailability", json=body, headers=read)
                    ),
                    1,
                ),
                ("booking (POST appointments)", book, 10),
            ]
            for label, send, scale in requests:
                lines.append(_per_request(label, send, counts, repeat * scale))
        runtime.db.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openvisit-bench-") as folder:
        url = sqlite_url(folder)
        upgrade(url)
        db = Database(url)
        business = seed(db)
        db.dispose()
        print("\n".join(breakdown(Backend("sqlite", url, Path(folder)), business, args.repeat)))


if __name__ == "__main__":
    main()
