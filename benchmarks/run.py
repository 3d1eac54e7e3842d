"""Run every benchmark on SQLite (WAL) and PostgreSQL, with and without history.

    .venv/bin/python benchmarks/run.py [--repeat 15] [--backends sqlite postgresql]
                                       [--history 200000] [--workers 2] [--booking-runs 1]
                                       [--no-breakdown] [--no-login-flood]
                                       [--visits 5] [--no-visit]

Each database is seeded with the benchmark business (20 staff, 5,000 future
appointments), then copied, and the copy gets two years of past appointments until it
holds `--history` rows (200,000). Every availability and booking figure is measured on
both, their runs interleaved, and printed with the ratio (cost with history over cost
without; target <= 1.3). A report, not a test: it exits 0 whether or not a target is met.
What is measured and how is described in docs/performance.md. PostgreSQL must answer on
127.0.0.1:5432 with trust authentication for `postgres` (./scripts/ensure-services); the
benchmark creates databases named `openvisit_bench*` and drops them at the end. A full
run takes about ten minutes on two quiet cores. Last come `--visits` visits in Chromium
(benchmarks/visit.py, SQLite): on a shared machine run it all under the browser lock
(`flock /tmp/browser.lock benchmarks/run`), or pass `--no-visit`.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import availability
import booking
import login_flood
import visit
from availability import READ_SCOPES, engine_probes, print_figures
from booking import WRITE_SCOPES, Outcome, describe, free_pairs, single_jobs
from breakdown import breakdown
from harness import (
    Backend,
    Comparison,
    compare,
    copy_postgres,
    copy_sqlite,
    drop_database,
    load_average,
    server,
)
from seed import (
    APPOINTMENTS,
    POSTGRES_BENCH_DB,
    WITH_HISTORY,
    Business,
    add_history,
    create_postgres,
    drop_postgres,
    gather_statistics,
    seed,
    sqlite_url,
    token,
)

from openvisit.store.db import Database
from openvisit.store.migrate import upgrade

LABELS = {"sqlite": "SQLite (WAL)", "postgresql": "PostgreSQL"}
HISTORY_DB = f"{POSTGRES_BENCH_DB}_history"
RATIO_TARGET = 1.3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per latency figure")
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=list(LABELS)
    )
    parser.add_argument(
        "--history",
        type=int,
        default=WITH_HISTORY,
        help="appointments in all once the past is added (the second size)",
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[2], help="workers per throughput run"
    )
    parser.add_argument(
        "--booking-runs", type=int, default=1, help="throughput runs per setup (median kept)"
    )
    parser.add_argument(
        "--no-breakdown", action="store_true", help="skip the per-request breakdown"
    )
    parser.add_argument(
        "--no-login-flood", action="store_true", help="skip the login-flood benchmark"
    )
    parser.add_argument("--visits", type=int, default=5, help="visits timed in Chromium (docs: 20)")
    parser.add_argument("--no-visit", action="store_true", help="skip the browser visits")
    args = parser.parse_args()
    began = time.perf_counter()
    print(
        f"OpenVisit benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {load_average()}, "
        f"commit {_commit()}"
    )
    sizes = [APPOINTMENTS, args.history]
    table: dict[str, list[Comparison]] = {}
    outcomes: list[tuple[Outcome, Outcome]] = []
    with tempfile.TemporaryDirectory(prefix="openvisit-bench-") as folder:
        for name in args.backends:
            label = LABELS[name]
            with _seeded(name, Path(folder), args.history) as (backends, business):
                figures, pairs = _measure(name, backends, business, sizes, args, first=not table)
                table[name] = figures
                outcomes += pairs
                if not args.no_breakdown:
                    print(f"\n(breakdown on the {args.history:,}-row database, {label})")
                    print("\n".join(breakdown(backends[-1], business, args.repeat)))
        if not args.no_login_flood:
            print(login_flood.title(polite=False))
            print("\n".join(login_flood.run(Path(folder)).lines()))
    import slot_listing  # noqa: PLC0415 - a large clinic of its own, seeded per backend

    print("\n".join(slot_listing.report(args.backends, args.repeat)))
    if not args.no_visit:
        print("\n".join(visit.report(args.visits)))
    _print_summary(table, outcomes, sizes)
    print(f"\n(total {time.perf_counter() - began:.0f} s; load average now {load_average()})")
    return 0


@contextmanager
def _seeded(name: str, folder: Path, history: int) -> Iterator[tuple[list[Backend], Business]]:
    """The seeded database and its copy with history, as pristine backends (smallest first)."""
    label = LABELS[name]
    try:
        url = create_postgres() if name == "postgresql" else sqlite_url(str(folder))
        if name == "sqlite":
            upgrade(url)
        db = Database(url)
        seeded = time.perf_counter()
        business = seed(db)
        gather_statistics(db)
        db.dispose()
        print(
            f"\n== {label}: seeded 20 staff, 3 services, {APPOINTMENTS:,} appointments "
            f"through the services in {time.perf_counter() - seeded:.0f} s"
        )
        if name == "sqlite":
            (folder / "history").mkdir()
            past_url = (
                f"sqlite:///{copy_sqlite(Path(url.removeprefix('sqlite:///')), folder / 'history')}"
            )
        else:
            past_url = copy_postgres(POSTGRES_BENCH_DB, HISTORY_DB)
        past = Database(past_url)
        added = add_history(past, business, history)
        past.dispose()
        print(
            f"   and a copy with the past from {added.first_day} on: {added.appointments:,} "
            f"appointments, written in bulk in {added.seconds:.0f} s"
        )
        yield (
            [
                Backend(name, url, folder, tag="small"),
                Backend(name, past_url, folder, tag="large"),
            ],
            business,
        )
    finally:
        if name == "postgresql":
            drop_postgres()
            drop_database(HISTORY_DB)


def _measure(
    name: str,
    backends: list[Backend],
    business: Business,
    sizes: list[int],
    args: argparse.Namespace,
    *,
    first: bool,
) -> tuple[list[Comparison], list[tuple[Outcome, Outcome]]]:
    """Every figure at every size, interleaved; prints them as it goes."""
    label = LABELS[name]
    figures: list[Comparison] = []

    def show(title: str, found: list[Comparison]) -> None:
        print_figures(title, found, sizes)
        figures.extend(found)

    dbs = [Database(backend.url) for backend in backends]
    readers = [token(db, READ_SCOPES) for db in dbs]
    writers = [token(db, WRITE_SCOPES) for db in dbs]
    jobs = single_jobs(free_pairs(dbs[0], business))
    if first:  # the engine runs in this process whatever the database
        show(
            "engine (in this process)",
            compare([engine_probes(db, business) for db in dbs], args.repeat),
        )
    show(
        f"service (in this process, {label})",
        compare([availability.service_probes(db, business) for db in dbs], args.repeat),
    )
    for db in dbs:
        db.dispose()
    with ExitStack() as stack:
        copies = [Database(stack.enter_context(backend.fresh())) for backend in backends]
        probes = [booking.service_probes(db, business, jobs) for db in copies]
        show(
            f"booking through the service (in this process, {label})", compare(probes, args.repeat)
        )
        for db in copies:
            db.dispose()
    with ExitStack() as stack:
        probes = []
        for backend, reader, writer in zip(backends, readers, writers, strict=True):
            copy = stack.enter_context(backend.fresh())
            served = stack.enter_context(
                server(copy, backend.folder / f"http-{name}-{backend.tag}")
            )
            reads = stack.enter_context(availability.http_probes(served.base, reader, business))
            writes = stack.enter_context(booking.http_probes(served.base, writer, business, jobs))
            probes.append(reads + writes)
        show(
            f"HTTP API (server in another process, 1 worker, {label})", compare(probes, args.repeat)
        )
    print(f"\nbooking over HTTP, {label}, 64 concurrent clients")
    outcomes = []
    for workers in args.workers:
        runs: list[list[Outcome]] = [[] for _ in backends]
        for _ in range(args.booking_runs):
            for index, (backend, writer) in enumerate(zip(backends, writers, strict=True)):
                runs[index].append(booking.run(backend, business, writer, workers))
        medians = [
            sorted(found, key=lambda item: item.per_second)[len(found) // 2] for found in runs
        ]
        for size, found, outcome in zip(sizes, runs, medians, strict=True):
            if len(found) > 1:
                rates = ", ".join(f"{item.per_second:.0f}" for item in found)
                print(f"  {size:,} rows, {workers} worker(s): runs at {rates}/s; median:")
            print(f"  {size:,} rows, {workers} worker(s): {describe(outcome)}")
        target = 400.0 if workers >= (os.cpu_count() or 1) else None
        throughput = [
            Comparison(
                f"booking, 64 clients, {workers} worker(s): created/s",
                [outcome.per_second for outcome in medians],
                unit="/s",
                target=target,
            ),
            Comparison(
                f"booking, 64 clients, {workers} worker(s): p50",
                [outcome.p50 for outcome in medians],
            ),
            Comparison(
                f"booking, 64 clients, {workers} worker(s): p95",
                [outcome.p95 for outcome in medians],
            ),
        ]
        show(f"booking throughput, {label}", throughput)
        outcomes.append((medians[0], medians[-1]))
    return figures, outcomes


def _commit() -> str:
    """The checked-out commit, marked when src/ has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (src/ modified)" if dirty else "")


def _print_summary(
    table: dict[str, list[Comparison]], outcomes: list[tuple[Outcome, Outcome]], sizes: list[int]
) -> None:
    small, large = (f"{size // 1000:,}k" for size in (sizes[0], sizes[-1]))
    print(
        f"\nSummary: every figure at {sizes[0]:,} and {sizes[-1]:,} appointments; ratio ="
        f" cost at {large} / cost at {small} (for a rate, {small} / {large}), target"
        f" <= {RATIO_TARGET}; absolute targets are judged at {large}"
    )
    head = "".join(f"  {LABELS[name] + ' ' + small:>16} {large:>9} {'ratio':>6}" for name in table)
    print(f"  {'figure':<56}{head}")
    labels = list(dict.fromkeys(figure.label for figures in table.values() for figure in figures))
    missed = []
    for label in labels:
        cells = ""
        for name, figures in table.items():
            found = next((figure for figure in figures if figure.label == label), None)
            if found is None:
                cells += f"  {'-':>16} {'-':>9} {'-':>6}"
                continue
            unit = found.unit
            cells += (
                f"  {found.values[0]:13.2f} {unit:<2} {found.values[-1]:9.2f} {found.ratio:5.2f}x"
            )
            if found.ratio > RATIO_TARGET:
                missed.append(f"ratio of {label}, {LABELS[name]}: {found.ratio:.2f}")
            if found.met is False:
                missed.append(f"{label}, {LABELS[name]}: {found.values[-1]:.1f} {unit}")
        print(f"  {label:<56}{cells}")
    for pair in outcomes:
        for size, outcome in zip((small, large), pair, strict=True):
            good = outcome.double_bookings == 0 and outcome.clean_losers
            print(
                f"  booking, {LABELS[outcome.backend]}, {outcome.workers} worker(s), {size}:"
                f" double bookings {outcome.double_bookings}, every loser a clean 409:"
                f" {outcome.clean_losers}"
            )
            if not good:
                missed.append(f"double bookings, {LABELS[outcome.backend]}, {size}")
    print("  targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))


if __name__ == "__main__":
    sys.exit(main())
