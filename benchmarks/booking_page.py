"""The booking page's slot step: server time of /book/{id}/services/{serviceId}.

The benchmark business of seed.py (20 staff on weekday hours in America/New_York, three
services, 5,000 appointments over 60 days, written through the services), published.
The page a consumer loads most is the slot step: the service, its providers, a week of
days with free times counted, one day's times, all in the consumer's zone. It costs two
reads (the page's business and service, then the week's compact slot listing) and one
render; this times it as a browser asks for it, over HTTP against `openvisit serve`
(1 worker) in another process, from sending the request to the last byte, after two
warm-ups, p50 and p99 of `--repeat` requests spread over the first days of the calendar:

- the visit, "anyone", the first week, in the business's zone;
- the same from Asia/Kolkata (the days are the consumer's, so the window moves);
- the visit with one named provider;
- the group class (5 seats), "anyone".

Run alone: `.venv/bin/python benchmarks/booking_page.py [--repeat 200]
[--backends sqlite postgresql]`. PostgreSQL uses the seed's own benchmark database.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from harness import load_average, percentile, server
from seed import Business, create_postgres, drop_postgres, seed, sqlite_url

from openvisit.bookings import businesses
from openvisit.clock import SystemClock
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade

WARMUP = 2


@dataclass(frozen=True)
class Figure:
    label: str
    p50: float
    p99: float
    size: int


def time_page(client: httpx.Client, label: str, paths: list[str], repeat: int) -> Figure:
    for path in paths[:WARMUP]:
        client.get(path).raise_for_status()
    samples, size = [], 0
    for n in range(repeat):
        began = time.perf_counter()
        response = client.get(paths[n % len(paths)])
        samples.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return Figure(label, percentile(samples, 0.5), percentile(samples, 0.99), size)


def report(backends: list[str], repeat: int) -> list[str]:
    lines = [f"\nBooking page, slot step (ms, request to last byte); load {load_average()}"]
    with tempfile.TemporaryDirectory(prefix="openvisit-bench-page-") as folder:
        for name in backends:
            try:
                url = create_postgres() if name == "postgresql" else sqlite_url(folder)
                upgrade(url)
                db = Database(url)
                began = time.perf_counter()
                business = seed(db)
                businesses.publish_business(db, SystemClock(), business.id, actor="benchmark")
                lines.append(f"  {name}: seeded in {time.perf_counter() - began:.0f} s")
                db.dispose()
                with (
                    server(url, Path(folder) / f"server-{name}") as served,
                    httpx.Client(base_url=served.base, timeout=30) as client,
                ):
                    figures = _figures(client, business, repeat)
            finally:
                if name == "postgresql":
                    drop_postgres()
            for figure in figures:
                lines.append(
                    f"    {figure.label:<44} p50 {figure.p50:7.1f}  p99 {figure.p99:7.1f}"
                    f"  {figure.size / 1000:6.1f} KB"
                )
    return lines


def _figures(client: httpx.Client, business: Business, repeat: int) -> list[Figure]:
    days = [(business.first_day + timedelta(days=offset)).isoformat() for offset in range(5)]

    def paths(service: str, **query: str) -> list[str]:
        base = f"/book/{business.id}/services/{business.service_ids[service]}"
        extra = "".join(f"&{key}={value}" for key, value in query.items())
        return [f"{base}?week={day}&day={day}{extra}" for day in days]

    return [
        time_page(client, "visit, anyone, business zone", paths("visit"), repeat),
        time_page(client, "visit, anyone, Asia/Kolkata", paths("visit", tz="Asia/Kolkata"), repeat),
        time_page(
            client, "visit, one provider", paths("visit", staff=business.staff_ids[0]), repeat
        ),
        time_page(client, "group class, anyone", paths("group"), repeat),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per figure")
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    print("\n".join(report(args.backends, args.repeat)))


if __name__ == "__main__":
    main()
