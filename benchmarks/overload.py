"""Booking latency under overload, with and without the admission bound (graph/admission.py).

256 clients (keep-alive connections) post bookings back to back against one worker on
SQLite, about four times what the benchmark in booking.py sends, so requests arrive
faster than the database takes them. A client answered 503 waits the Retry-After it was
given, as Graph clients do, then goes on. Run twice on fresh copies of the seeded
database: once as shipped (OPENVISIT_BOOKING_QUEUE default), once with the bound lifted
(OPENVISIT_BOOKING_QUEUE=100000, so every request waits for a thread, as before the
limiter). Reported: answers by status, and p50/p99 latency of the requests the server
handled (201/409) and of the 503s.

Run: `.venv/bin/python benchmarks/overload.py [--clients 256] [--seconds 10]`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import tempfile
import time as timer
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from booking import WRITE_SCOPES, Connection, Job, free_pairs, payload
from harness import Backend, percentile, server
from seed import Business, seed, sqlite_url, token

from openvisit.store.db import Database
from openvisit.store.migrate import upgrade

UNBOUNDED = "100000"


@dataclass
class Result:
    label: str
    wall: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    served: list[float] = field(default_factory=list)  # ms, 201 and 409 answers
    refused: list[float] = field(default_factory=list)  # ms, 503 answers

    def describe(self) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        handled = len(self.served) / self.wall if self.wall else 0.0
        text = (
            f"{self.label}: {sum(self.statuses.values())} answers in {self.wall:.1f} s "
            f"({statuses}); handled {handled:.0f}/s; handled p50 "
            f"{percentile(self.served, 0.5):.0f} ms, p99 {percentile(self.served, 0.99):.0f} ms"
        )
        if self.refused:
            text += (
                f"; 503 p50 {percentile(self.refused, 0.5):.1f} ms, "
                f"p99 {percentile(self.refused, 0.99):.1f} ms"
            )
        return text


async def drive(
    base: str,
    secret: str,
    business: Business,
    jobs: Iterator[tuple[int, Job]],
    *,
    clients: int,
    seconds: float,
    label: str,
) -> Result:
    result = Result(label)
    path = f"/v1.0/solutions/bookingBusinesses/{business.id}/appointments"
    began = timer.perf_counter()

    async def client() -> None:
        connection = Connection(base, secret)
        try:
            for n, job in jobs:
                if timer.perf_counter() - began > seconds:
                    return
                sent = timer.perf_counter()
                status, body = await connection.post(path, payload(business, job, n))
                elapsed = (timer.perf_counter() - sent) * 1000
                result.statuses[status] += 1
                if status == 503:
                    result.refused.append(elapsed)
                    await asyncio.sleep(1)  # the Retry-After the server sent
                else:
                    result.served.append(elapsed)
                    if status not in (201, 409):
                        print(f"unexpected {status}: {json.loads(body)}")
        finally:
            await connection.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    result.wall = timer.perf_counter() - began
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openvisit-overload-") as folder:
        url = sqlite_url(folder)
        upgrade(url)
        db = Database(url)
        business = seed(db)
        secret = token(db, WRITE_SCOPES)
        db.dispose()
        backend = Backend("sqlite", url, Path(folder))
        for label, queue in (("bounded (as shipped)", None), ("unbounded", UNBOUNDED)):
            if queue is None:
                os.environ.pop("OPENVISIT_BOOKING_QUEUE", None)
            else:
                os.environ["OPENVISIT_BOOKING_QUEUE"] = queue
            with backend.fresh() as fresh_url:
                fresh = Database(fresh_url)
                # Past the free pairs the same ones come again and lose with 409: still
                # the whole booking path, up to the overlap check under the write lock.
                jobs = enumerate(itertools.cycle(free_pairs(fresh, business)))
                fresh.dispose()
                folder_path = Path(folder) / f"server-{len(label)}"
                with server(fresh_url, folder_path, workers=1) as served:
                    result = asyncio.run(
                        drive(
                            served.base,
                            secret,
                            business,
                            jobs,
                            clients=args.clients,
                            seconds=args.seconds,
                            label=label,
                        )
                    )
            print(f"booking overload, {args.clients} clients, 1 worker: {result.describe()}")


if __name__ == "__main__":
    main()
