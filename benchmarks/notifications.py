"""Notifications per second delivered over SMTP to a local sink, by `openvisit worker`s.

The sink is aiosmtpd on 127.0.0.1 in this process: it answers every message 250 and
counts the Message-IDs it received. Measured, on a database prepared once and copied
fresh for every run:

- raw: aiosmtplib sending the same number of prebuilt messages over as many connections
  as the transport keeps (OPENVISIT_SMTP_CONNECTIONS, 2), from this process: the
  ceiling the sink and loopback allow, with no database at all;
- 1 and 4 `openvisit worker` processes, as deployed, with OPENVISIT_EMAIL_TRANSPORT=smtp
  pointed at the sink (security none), from their start until every row is `sent`
  (polled every 50 ms), so process start-up is included.

The rows are real: appointments booked through `appointments.book` (one customer each,
with a staff member who gets a notice), whose planner writes a confirmation and a staff
notice per booking, both due at once; `--count` asks for that many rows (half as many
bookings). Every run checks that the sink got each row's message exactly once (distinct
Message-IDs == rows, no duplicates).

Run: `.venv/bin/python benchmarks/notifications.py [--count 2000] [--postgres]`
(--postgres: a fresh database on 127.0.0.1:5432, dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import psycopg
from aiosmtpd.controller import Controller
from harness import Backend, drop_database, free_port
from seed import MANAGER, POLICY, POSTGRES_ADMIN_URL, WEEKDAYS, ZONE_NAME, sqlite_url
from sqlalchemy import func, select

from openvisit.bookings import businesses, records
from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.bookings.services import SERVICES
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.clock import SystemClock
from openvisit.notify.messages import EmailMessage
from openvisit.notify.transports.mime import POLICY as MIME_POLICY
from openvisit.notify.transports.mime import Sender, build_mime
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade
from openvisit.store.models import Notification, OutboxMessage

SENDER = "visits@bench.openvisit.local"
CONNECTIONS = 2  # OPENVISIT_SMTP_CONNECTIONS' default; --connections changes both sides
STAFF = 20
VISIT_MINUTES = 30
POSTGRES_DB = "openvisit_bench_notify"
DRAIN_TIMEOUT = 600.0
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


class Sink:
    """aiosmtpd handler: counts each Message-ID it is sent, and accepts everything."""

    def __init__(self) -> None:
        self.ids: collections.Counter[bytes] = collections.Counter()
        self.first: float | None = None  # perf_counter() of the first message

    def reset(self) -> None:
        self.ids.clear()
        self.first = None

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        found = MESSAGE_ID.search(content)
        self.ids[found.group(1) if found else b"(none)"] += 1
        if self.first is None:
            self.first = time.perf_counter()
        return "250 2.0.0 Ok: queued as bench"

    @property
    def received(self) -> int:
        return sum(self.ids.values())


@dataclass(frozen=True)
class Figure:
    setup: str
    count: int
    seconds: float
    first: float | None  # seconds until the sink had the first message (process start-up)
    duplicates: int
    missing: int

    def row(self) -> str:
        rate = self.count / self.seconds if self.seconds else float("nan")
        if self.first is None:  # the outbox: no sink saw the first one arrive
            first, steady = "n/a", "n/a"
        else:
            after = self.seconds - self.first
            first, steady = f"{self.first:.2f}", f"{(self.count - 1) / after:.0f}"
        return (
            f"| {self.setup} | {self.count} | {self.seconds:.2f} | {rate:.0f} | "
            f"{first} | {steady} | {self.duplicates} | {self.missing} |"
        )


def prepare(url: str, count: int) -> int:
    """Book count/2 appointments through the service; returns the due rows they made."""
    upgrade(url)
    db = Database(url)
    clock = SystemClock()
    business = businesses.create_business(
        db,
        clock,
        {
            "display_name": f"Notify Bench {uuid.uuid4().hex[:6]}",
            "business_hours": [
                {"day": day, "timeSlots": [{"startTime": "09:00:00", "endTime": "17:00:00"}]}
                for day in WEEKDAYS
            ],
            "booking_page_settings": {"businessTimeZone": ZONE_NAME},
            "scheduling_policy": POLICY,
        },
        id_domain="bench.openvisit.local",
        actor="benchmark",
    ).id
    staff = [
        records.create_record(
            db,
            clock,
            STAFF_MEMBERS,
            business,
            {
                "display_name": f"Dr. {n:02d}",
                "role": "administrator",
                "email_address": f"staff{n:02d}@example.test",
            },
            actor="benchmark",
        ).id
        for n in range(STAFF)
    ]
    service = records.create_record(
        db,
        clock,
        SERVICES,
        business,
        {
            "display_name": "Visit",
            "default_duration_seconds": VISIT_MINUTES * 60,
            "staff_member_ids": staff,
        },
        actor="benchmark",
    ).id
    first = (clock.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    for n in range((count + 1) // 2):
        # Back to back for each staff member, around the clock: the manager's authority
        # books outside working hours, and no two overlap.
        start = first + timedelta(minutes=VISIT_MINUTES * (n // STAFF))
        customer = {"name": f"Patient {n}", "emailAddress": f"patient{n}@example.test"}
        request = AppointmentRequest(
            service_id=service, start=start, staff_ids=(staff[n % STAFF],), customers=(customer,)
        )
        book(db, clock, business, request, authority=MANAGER)
    due = pending(db)
    db.dispose()
    return due


def pending(db: Database) -> int:
    return _count(db, Notification.status == "pending")


def sent(db: Database) -> int:
    return _count(db, Notification.status == "sent")


def _count(db: Database, condition: Any) -> int:
    with db.read() as session:
        return int(
            session.scalar(select(func.count()).select_from(Notification).where(condition)) or 0
        )


def prebuilt(count: int) -> list[tuple[str, bytes]]:
    """(recipient, message bytes) like the workers send: a confirmation each."""
    now = datetime.now(UTC)
    built = []
    for n in range(count):
        recipient = f"patient{n}@example.test"
        message = EmailMessage(
            to_address=recipient,
            to_name=f"Patient {n}",
            subject="Notify Bench: Visit (confirmation)",
            text=f"Visit at {(now + timedelta(days=1)).isoformat()}",
            html=None,
            message_id=f"<raw.{n}@bench.openvisit.local>",
            idempotency_key=f"raw:{n}",
        )
        mime = build_mime(message, sender=Sender(SENDER, "Bench"), date=now)
        built.append((recipient, mime.as_bytes(policy=MIME_POLICY)))
    return built


async def send_raw(port: int, messages: list[tuple[str, bytes]], connections: int) -> None:
    queue = iter(messages)

    async def lane() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=20)
        await client.connect()
        for recipient, data in queue:  # shared: each lane takes the next message
            await client.sendmail(SENDER, [recipient], data)
        await client.quit()

    await asyncio.gather(*(lane() for _ in range(connections)))


def raw(sink: Sink, port: int, count: int, connections: int) -> Figure:
    messages = prebuilt(count)
    sink.reset()
    began = time.perf_counter()
    asyncio.run(send_raw(port, messages, connections))
    seconds = time.perf_counter() - began
    return _figure(f"raw aiosmtplib, {connections} connections", sink, count, began, seconds)


def worker_environment(url: str, data_dir: Path, port: int, connections: int) -> dict[str, str]:
    kept = {name: value for name, value in os.environ.items() if not name.startswith("OPENVISIT_")}
    settings = {
        "DATABASE_URL": url,
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "EMAIL_TRANSPORT": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM_ADDRESS": SENDER,
        "SMTP_CONNECTIONS": str(connections),
        "NOTIFICATION_POLL_SECONDS": "0.1",
    }
    return {**kept, **{f"OPENVISIT_{name}": value for name, value in settings.items()}}


@dataclass(frozen=True)
class Target:
    """Where the workers send: the sink's port, over how many connections each."""

    sink: Sink
    port: int
    connections: int


def drain(
    url: str, workers: int, target: Target, count: int, folder: Path, *, outbox: bool
) -> Figure:
    """Start `workers` processes; seconds until every row is sent."""
    data_dir = folder / f"workers-{workers}-{'outbox' if outbox else 'smtp'}"
    data_dir.mkdir(parents=True, exist_ok=True)
    sink = target.sink
    env = worker_environment(url, data_dir, target.port, target.connections)
    if outbox:
        env["OPENVISIT_EMAIL_TRANSPORT"] = "outbox"
    db = Database(url)
    sink.reset()
    logs = [(data_dir / f"worker-{n}.log").open("ab") for n in range(workers)]
    began = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "openvisit", "worker"], env=env, stdout=log, stderr=log
        )
        for log in logs
    ]
    try:
        while sent(db) < count:
            if time.perf_counter() - began > DRAIN_TIMEOUT:
                raise RuntimeError(f"not drained within {DRAIN_TIMEOUT:g} s; see {data_dir}")
            if any(process.poll() is not None for process in processes):
                raise RuntimeError(f"a worker exited early; see {data_dir}")
            time.sleep(0.05)
        seconds = time.perf_counter() - began
        if outbox:
            _count_outbox(db, sink)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        for log in logs:
            log.close()
        db.dispose()
    label = f"{workers} openvisit worker{'s' if workers > 1 else ''}"
    label += ", outbox (no SMTP)" if outbox else ""
    return _figure(label, sink, count, began, seconds)


def _count_outbox(db: Database, sink: Sink) -> None:
    # The outbox is the sink here: one row per send, keyed by the idempotency key.
    with db.read() as session:
        keys = session.scalars(select(OutboxMessage.idempotency_key)).all()
    sink.ids.update(str(key).encode() for key in keys)


def _figure(setup: str, sink: Sink, count: int, began: float, seconds: float) -> Figure:
    distinct = len(sink.ids)
    first = None if sink.first is None else sink.first - began
    return Figure(setup, count, seconds, first, sink.received - distinct, max(0, count - distinct))


def create_postgres() -> str:
    drop_database(POSTGRES_DB)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{POSTGRES_DB}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{POSTGRES_DB}"


def run(backend_name: str, count: int, folder: Path, target: Target) -> list[Figure]:
    url = create_postgres() if backend_name == "postgresql" else sqlite_url(str(folder))
    try:
        began = time.perf_counter()
        due = prepare(url, count)
        print(f"{backend_name}: {due} due rows prepared in {time.perf_counter() - began:.1f} s")
        backend = Backend(backend_name, url, folder, tag="notify")
        figures = [raw(target.sink, target.port, due, target.connections)]
        for workers, outbox in ((1, True), (1, False), (4, False)):
            with backend.fresh() as fresh:
                figures.append(drain(fresh, workers, target, due, folder, outbox=outbox))
        return figures
    finally:
        if backend_name == "postgresql":
            drop_database(POSTGRES_DB)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000, help="due notification rows")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, not SQLite")
    parser.add_argument(
        "--connections", type=int, default=CONNECTIONS, help="OPENVISIT_SMTP_CONNECTIONS"
    )
    args = parser.parse_args()
    backend_name = "postgresql" if args.postgres else "sqlite"
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory(prefix="openvisit-notify-bench-") as folder:
            target = Target(sink, port, args.connections)
            figures = run(backend_name, args.count, Path(folder), target)
    finally:
        controller.stop()
    print(f"\nnotifications over SMTP to a local sink, {backend_name}:\n")
    print(
        "| setup | count | seconds | per second | first message (s) | per second after it "
        "| duplicates | missing |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for figure in figures:
        print(figure.row())


if __name__ == "__main__":
    main()
