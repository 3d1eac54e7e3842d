"""Booking throughput over HTTP: 64 concurrent clients against the server in another process.

Every request books one 30-minute visit (10-minute buffers) for a named staff member at
an on-grid start inside working hours, with a `BookingsAppointment.ReadWrite.All` token,
so the whole consumer rule path runs (lead time, maximum advance, hours, overlap). The
targets are free (staff, start) pairs taken from the engine and thinned so no two of them
collide; one request in ten instead repeats a pair one of the previous 64 requests asked
for, which is most likely still in flight: exactly one request per pair may win (201),
every other must lose with a clean 409 `conflict`.

The load generator is a small HTTP/1.1 keep-alive client on asyncio streams (one
connection per client), because a general-purpose client would take a good share of the
two cores away from the server; its CPU use is reported. Afterwards the database is
asked for overlapping holds of one staff member (double bookings, which must be 0).

Run alone: `.venv/bin/python benchmarks/booking.py [--backends sqlite postgresql]
[--workers 1 2]` (default SQLite, 1 and 2 workers);
`benchmarks/run.py` runs it on both databases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time as timer
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from harness import Backend, CpuMeter, Probe, percentile, server
from seed import (
    SEED,
    ZONE,
    Business,
    create_postgres,
    double_bookings,
    drop_postgres,
    seed,
    sqlite_url,
    token,
)

from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.bookings.authority import Authority
from openvisit.bookings.availability import list_slots
from openvisit.clock import SystemClock
from openvisit.scheduling.intervals import Interval
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade

WRITE_SCOPES = "BookingsAppointment.ReadWrite.All"
CUSTOMER = Authority(actor="benchmark")  # every rule applies, as for the API's callers
CLIENTS = 64
REQUESTS = 2_000
WARMUP = 128
TIME_LIMIT = 15.0  # seconds
COLLISION_SHARE = 0.1
BOOKED_SERVICE = "visit"
HORIZON_DAYS = 90  # free slots are looked for in three 30-day windows from the first day


@dataclass(frozen=True)
class Job:
    staff_id: str  # "" books "anyone": the least-booked free staff member
    start: datetime


@dataclass
class Outcome:
    backend: str
    workers: int
    sent: int = 0
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0  # CPU seconds of the server's processes during the run
    server_processes: list[float] = field(default_factory=list)  # per process, busiest first
    postgres_cpu: float = 0.0  # and of PostgreSQL's backends serving it
    machine_busy: float = 0.0  # CPU seconds used by every process on the machine
    machine_idle: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    winners: Counter[Job] = field(default_factory=Counter)
    asked: set[Job] = field(default_factory=set)
    double_bookings: int = -1
    samples: list[str] = field(default_factory=list)  # bodies of unexpected answers

    @property
    def created(self) -> int:
        return self.statuses["201"]

    @property
    def per_second(self) -> float:
        return self.created / self.wall if self.wall else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.5)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 0.95)

    @property
    def clean_losers(self) -> bool:
        """Every pair won exactly once and every other answer was a clean 409."""
        others = sum(n for status, n in self.statuses.items() if status not in ("201", "409"))
        return (
            others == 0
            and all(n == 1 for n in self.winners.values())
            and len(self.winners) == len(self.asked)
            and self.statuses["409"] == self.sent - len(self.asked)
        )


def free_pairs(db: Database, business: Business) -> list[Job]:
    """Bookable (staff, start) pairs of the visit that do not collide with one another."""
    service_id = business.service_ids[BOOKED_SERVICE]
    start = datetime.combine(business.first_day, time(0), tzinfo=ZONE)
    blocked = timedelta(minutes=10)  # the visit's buffers
    length = timedelta(minutes=30)
    last_end: dict[str, datetime] = {}
    pairs = []
    for offset in range(0, HORIZON_DAYS, 30):
        first = start + timedelta(days=offset)
        window_slots, _names = list_slots(
            db,
            SystemClock(),
            business.id,
            service_id,
            Interval(first, first + timedelta(days=30)),
        )
        for slot in window_slots:
            for option in slot.staff:
                previous = last_end.get(option.staff_id)
                if previous is None or slot.start - blocked >= previous:
                    pairs.append(Job(option.staff_id, slot.start))
                    last_end[option.staff_id] = slot.start + length + blocked
    random.Random(SEED).shuffle(pairs)
    return pairs


def plan_jobs(pairs: list[Job], count: int, rng: random.Random) -> list[Job]:
    """`count` requests: fresh pairs, and one in ten a repeat of a recent one."""
    jobs: list[Job] = []
    fresh = iter(pairs)
    for _ in range(count):
        if jobs and rng.random() < COLLISION_SHARE:
            jobs.append(rng.choice(jobs[-CLIENTS:]))
        else:
            jobs.append(next(fresh))
    return jobs


@dataclass(frozen=True)
class SingleJobs:
    """Bookings sent one at a time: for a named staff member, and for anyone."""

    named: list[Job]
    anyone: list[Job]


def single_jobs(pairs: list[Job]) -> SingleJobs:
    """Named bookings on even days and "anyone" bookings on odd days, so neither takes
    the other's time; anyone asks for one start per hour, when several staff are free."""
    named = [job for job in pairs if job.start.toordinal() % 2 == 0]
    hours: dict[tuple[int, int], Job] = {}
    for job in pairs:
        if job.start.toordinal() % 2 == 1:
            hours.setdefault((job.start.toordinal(), job.start.hour), Job("", job.start))
    return SingleJobs(named, list(hours.values()))


def service_probes(db: Database, business: Business, jobs: SingleJobs) -> list[Probe]:
    """`appointments.book` in this process, one booking at a time, as a customer would."""
    clock = SystemClock()
    service_id = business.service_ids[BOOKED_SERVICE]

    def sender(queue: list[Job]) -> Callable[[], object]:
        items = iter(enumerate(queue))

        def send() -> object:
            n, job = next(items)
            return book(
                db,
                clock,
                business.id,
                AppointmentRequest(
                    service_id=service_id,
                    start=job.start,
                    staff_ids=(job.staff_id,) if job.staff_id else (),
                    customers=({"name": f"Single {n}", "emailAddress": f"s{n}@example.test"},),
                ),
                authority=CUSTOMER,
            )

        return send

    return [
        Probe("booking, named staff, one at a time: service", sender(jobs.named), scale=2),
        Probe(
            "booking, anyone (least booked), one at a time: service", sender(jobs.anyone), scale=2
        ),
    ]


@contextmanager
def http_probes(
    base: str, secret: str, business: Business, jobs: SingleJobs
) -> Iterator[list[Probe]]:
    """POST .../appointments one at a time over HTTP (201 expected every time)."""
    path = f"{base}/v1.0/solutions/bookingBusinesses/{business.id}/appointments"
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    with httpx.Client(headers=headers, timeout=60) as client:

        def sender(queue: list[Job]) -> Callable[[], object]:
            items = iter(enumerate(queue))

            def send() -> object:
                n, job = next(items)
                response = client.post(path, content=payload(business, job, n))
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
                return response

            return send

        yield [
            Probe("booking, named staff, one at a time: HTTP", sender(jobs.named), scale=2),
            Probe(
                "booking, anyone (least booked), one at a time: HTTP",
                sender(jobs.anyone),
                scale=2,
            ),
        ]


class Connection:
    """One keep-alive HTTP/1.1 connection; just enough protocol for JSON requests."""

    def __init__(self, base: str, secret: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.secret = secret
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.secret}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()
        self.reader = self.writer = None


def payload(business: Business, job: Job, n: int) -> bytes:
    body = {
        "serviceId": business.service_ids[BOOKED_SERVICE],
        "startDateTime": {"dateTime": job.start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "staffMemberIds": [job.staff_id] if job.staff_id else [],
        "customers": [
            {
                "@odata.type": "#microsoft.graph.bookingCustomerInformation",
                "name": f"Load client {n}",
                "emailAddress": f"load{n}@example.test",
            }
        ],
    }
    return json.dumps(body).encode()


async def drive(
    base: str, secret: str, business: Business, jobs: list[Job], outcome: Outcome | None
) -> None:
    """Send `jobs` from CLIENTS connections, each taking the next job when it is free."""
    path = f"/v1.0/solutions/bookingBusinesses/{business.id}/appointments"
    queue = iter(enumerate(jobs))
    began = timer.perf_counter()

    async def client() -> None:
        connection = Connection(base, secret)
        try:
            for n, job in queue:
                if outcome is not None and timer.perf_counter() - began > TIME_LIMIT:
                    return
                sent = timer.perf_counter()
                status, body = await connection.post(path, payload(business, job, n))
                if outcome is None:
                    continue
                outcome.latencies.append((timer.perf_counter() - sent) * 1000)
                outcome.sent += 1
                outcome.asked.add(job)
                code = str(status)
                if status == 201:
                    outcome.winners[job] += 1
                elif status == 409 and json.loads(body)["error"]["code"] != "conflict":
                    code = "409 (not conflict)"
                if status not in (201, 409) and len(outcome.samples) < 3:
                    outcome.samples.append(f"{status} {body[:200]!r}")
                outcome.statuses[code] += 1
        finally:
            await connection.close()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))


def run(backend: Backend, business: Business, secret: str, workers: int) -> Outcome:
    """One throughput run on a fresh copy of the seeded database."""
    outcome = Outcome(backend.name, workers)
    with backend.fresh() as url:
        db = Database(url)
        pairs = free_pairs(db, business)
        warmup, pairs = pairs[:WARMUP], pairs[WARMUP:]
        jobs = plan_jobs(pairs, REQUESTS, random.Random(SEED + workers))
        folder = backend.folder / f"server-{backend.name}-{workers}"
        database = url.rpartition("/")[2] if backend.name == "postgresql" else None
        with server(url, folder, workers=workers) as served:
            asyncio.run(drive(served.base, secret, business, warmup, None))
            with CpuMeter(served.pid, database) as meter:
                cpu, began = timer.process_time(), timer.perf_counter()
                asyncio.run(drive(served.base, secret, business, jobs, outcome))
                outcome.wall = timer.perf_counter() - began
                outcome.client_cpu = timer.process_time() - cpu
            outcome.server_cpu, outcome.postgres_cpu = meter.server, meter.postgres
            outcome.server_processes = meter.server_processes
            outcome.machine_busy, outcome.machine_idle = meter.machine_busy, meter.machine_idle
        outcome.double_bookings = double_bookings(db)
        db.dispose()
    return outcome


def describe(outcome: Outcome) -> str:
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(outcome.statuses.items()))
    text = (
        f"{outcome.per_second:7.0f} appointments/s  {outcome.sent} requests in "
        f"{outcome.wall:.1f} s ({statuses}); p50 {percentile(outcome.latencies, 0.5):.0f} ms, "
        f"p95 {percentile(outcome.latencies, 0.95):.0f} ms; double bookings "
        f"{outcome.double_bookings}; every loser a clean 409: {outcome.clean_losers}; "
        f"client CPU {outcome.client_cpu / outcome.wall:.0%} of a core"
    )
    if outcome.sent:
        per_request = 1000 / outcome.sent
        text += (
            f"\n      CPU per request: server {outcome.server_cpu * per_request:.1f} ms"
            f" ({outcome.server_cpu / outcome.wall:.2f} cores"
            + (
                ": " + " + ".join(f"{cpu / outcome.wall:.2f}" for cpu in outcome.server_processes)
                if len(outcome.server_processes) > 1
                else ""
            )
            + ")"
        )
        if outcome.backend == "postgresql":
            text += (
                f", PostgreSQL backends {outcome.postgres_cpu * per_request:.1f} ms"
                f" ({outcome.postgres_cpu / outcome.wall:.2f} cores)"
            )
        others = outcome.machine_busy - outcome.server_cpu - outcome.postgres_cpu
        others -= outcome.client_cpu
        text += (
            f"; rest of the machine {others / outcome.wall:.2f} cores busy,"
            f" {outcome.machine_idle / outcome.wall:.2f} idle"
        )
    if outcome.samples:
        text += "\n      unexpected: " + " | ".join(outcome.samples)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openvisit-bench-") as folder:
        for name in args.backends:
            if name == "sqlite":
                url = sqlite_url(folder)
                upgrade(url)
            else:
                url = create_postgres()
            db = Database(url)
            business = seed(db)
            secret = token(db, WRITE_SCOPES)
            db.dispose()
            backend = Backend(name, url, Path(folder))
            try:
                for workers in args.workers:
                    outcome = run(backend, business, secret, workers)
                    print(f"booking, {name}, {workers} worker(s): {describe(outcome)}")
            finally:
                if name == "postgresql":
                    drop_postgres()


if __name__ == "__main__":
    main()
