"""A login flood must not starve the API: read latency alone and under 16 sign-in clients.

One run, one real server (`openvisit serve`, 1 worker, default threads) on loopback:

1. alone: one client reads `GET /v1.0/solutions/bookingBusinesses` (a token check and a
   database read) back to back for ALONE_SECONDS;
2. flood: 16 clients post wrong passwords to `/login` as fast as the server answers, while
   the same reader keeps reading for FLOOD_SECONDS.

Each flood request names a new e-mail and a new client address (the server trusts
127.0.0.1 as a proxy and each request carries its own X-Forwarded-For), as a botnet
spraying accounts would, and by default they ignore Retry-After (`--polite` makes them
wait it out): the sign-in throttle, which would otherwise answer most of them
with a cheap 429, does not help, so every request costs an argon2 hash. The figures are
read p50/p99 in both phases and their ratio, sign-in answers by status, and the server
process's resident memory (after start, and the peak sampled every 50 ms).

Everything the server needs is made through its own CLI and API, so `--pythonpath` can
point the server at another checkout's `src` to compare (e.g. a commit before the hashing
pool): `.venv/bin/python benchmarks/login_flood.py [--pythonpath /tmp/old/src]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from harness import BIN, percentile, process_tree, server

FLOOD_CLIENTS = 16
ALONE_SECONDS = 5.0
FLOOD_SECONDS = 10.0
RAMP_SECONDS = 1.0  # the flood's first second is left out of the "under flood" figures
READ_PATH = "/v1.0/solutions/bookingBusinesses"
ADMIN_EMAIL = "flood-admin@example.test"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class FloodOutcome:
    alone_ms: list[float] = field(default_factory=list)
    flood_ms: list[float] = field(default_factory=list)
    read_errors: Counter[str] = field(default_factory=Counter)
    sign_ins: Counter[int] = field(default_factory=Counter)
    sign_in_ms: list[float] = field(default_factory=list)
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0

    def lines(self) -> list[str]:
        alone50, alone99 = percentile(self.alone_ms, 0.5), percentile(self.alone_ms, 0.99)
        flood50, flood99 = percentile(self.flood_ms, 0.5), percentile(self.flood_ms, 0.99)
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.sign_ins.items()))
        sign_in_p50 = statistics.median(self.sign_in_ms) if self.sign_in_ms else float("nan")
        return [
            f"  API read alone:        p50 {alone50:7.1f} ms  p99 {alone99:7.1f} ms  "
            f"({len(self.alone_ms)} reads)",
            f"  API read under flood:  p50 {flood50:7.1f} ms  p99 {flood99:7.1f} ms  "
            f"({len(self.flood_ms)} reads, errors {dict(self.read_errors) or 0})",
            f"  ratio flood/alone:     p50 {flood50 / alone50:7.1f} x   p99 "
            f"{flood99 / alone99:7.1f} x",
            f"  sign-in answers:       {statuses} (p50 {sign_in_p50:.0f} ms)",
            f"  server memory (RSS):   {self.rss_start_mb:.0f} MB after start, "
            f"peak {self.rss_peak_mb:.0f} MB",
        ]


def rss_mb(pids: set[int]) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return total / 1024


def prepare(env: dict[str, str]) -> str:
    """A staff user and a read token, made with the server's own CLI; returns the token."""
    cli = [str(BIN / "python"), "-m", "openvisit"]
    subprocess.run(  # noqa: S603 - our own CLI
        [*cli, "user", "create", "--email", ADMIN_EMAIL, "--role", "administrator"],
        env=env,
        check=True,
        capture_output=True,
    )
    created = subprocess.run(  # noqa: S603
        [*cli, "token", "create", "--name", "flood", "--scopes", "Bookings.Manage.All"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return created.stdout.strip().splitlines()[-1]


def read_loop(
    base: str, secret: str, seconds: float, into: list[float], errors: Counter[str]
) -> None:
    """Back-to-back reads on one keep-alive connection for `seconds`."""
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            response = client.get(READ_PATH)
            if response.status_code != 200:
                errors[str(response.status_code)] += 1
                continue
            into.append((time.perf_counter() - began) * 1000)


async def flood(base: str, stop: threading.Event, outcome: FloodOutcome, *, polite: bool) -> None:
    rng = random.Random(7)

    async def sign_in_client(number: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            form_page = await client.get("/login")
            match = _CSRF_FIELD.search(form_page.text)
            token = match.group(1) if match else ""
            attempt = 0
            while not stop.is_set():
                attempt += 1
                address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                form = {
                    "email": f"guess-{number}-{attempt}@example.test",
                    "password": f"wrong password {attempt}",
                    "csrf_token": token,
                    "next": "",
                }
                began = time.perf_counter()
                response = await client.post(
                    "/login", data=form, headers={"X-Forwarded-For": address}
                )
                outcome.sign_in_ms.append((time.perf_counter() - began) * 1000)
                outcome.sign_ins[response.status_code] += 1
                if polite and response.status_code in (429, 503):
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))

    await asyncio.gather(*(sign_in_client(number) for number in range(FLOOD_CLIENTS)))


def run(folder: Path, pythonpath: str | None = None, *, polite: bool = False) -> FloodOutcome:
    outcome = FloodOutcome()
    data_dir = folder / "login-flood"
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{data_dir / 'openvisit.db'}"
    extra = {"OPENVISIT_TRUSTED_PROXIES": "127.0.0.1"}
    if pythonpath:
        extra["PYTHONPATH"] = pythonpath
    env = {
        **os.environ,
        **extra,
        "OPENVISIT_DATA_DIR": str(data_dir),
        "OPENVISIT_DATABASE_URL": url,
    }
    secret = prepare(env)
    with server(url, data_dir, env=extra) as served:
        pids = process_tree(served.pid)
        with httpx.Client(base_url=served.base, timeout=30) as client:
            headers = {"Authorization": f"Bearer {secret}"}
            body = {"displayName": "Flood Clinic", "email": "clinic@example.test"}
            created = client.post(f"{READ_PATH}", json=body, headers=headers)
            created.raise_for_status()
            for _ in range(20):  # warm-up
                client.get(READ_PATH, headers=headers).raise_for_status()
        outcome.rss_start_mb = outcome.rss_peak_mb = rss_mb(pids)
        read_loop(served.base, secret, ALONE_SECONDS, outcome.alone_ms, outcome.read_errors)

        stop = threading.Event()
        sampling = threading.Event()

        def sample_memory() -> None:
            while not sampling.wait(0.05):
                outcome.rss_peak_mb = max(outcome.rss_peak_mb, rss_mb(pids))

        flooder = threading.Thread(
            target=asyncio.run,
            args=(flood(served.base, stop, outcome, polite=polite),),
            daemon=True,
        )
        sampler = threading.Thread(target=sample_memory, daemon=True)
        sampler.start()
        flooder.start()
        time.sleep(RAMP_SECONDS)
        read_loop(served.base, secret, FLOOD_SECONDS, outcome.flood_ms, outcome.read_errors)
        stop.set()
        flooder.join(60)
        sampling.set()
        sampler.join(5)
    return outcome


def title(*, polite: bool, pythonpath: str | None = None) -> str:
    manners = "waiting out Retry-After" if polite else "ignoring Retry-After"
    source = f" (server from {pythonpath})" if pythonpath else ""
    return (
        f"\nlogin flood: {FLOOD_CLIENTS} clients posting wrong passwords ({manners}), "
        f"1 worker, SQLite{source}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pythonpath", help="run the server from this `src` folder instead")
    parser.add_argument(
        "--polite", action="store_true", help="flood clients wait out Retry-After on 429/503"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openvisit-flood-") as folder:
        outcome = run(Path(folder), args.pythonpath, polite=args.polite)
    print(title(polite=args.polite, pythonpath=args.pythonpath))
    print("\n".join(outcome.lines()))


if __name__ == "__main__":
    main()
