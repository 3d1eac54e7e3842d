"""The visit in the browser: join link to waiting room, admit to video, rejoin to video.

Seeds one clinic (a provider, Dr. Ann, signed in; a 30-minute online visit) and `--visits`
online appointments booked through the services, each with its meeting and a consumer join
link signed with the server's secret, as tests/visits.py does. Starts the real server
(`openvisit serve`, 1 worker, SQLite or `--backend postgresql`) and Debian's
/usr/bin/chromium with fake camera and microphone and loopback ICE (shared/notes/
media-stack.md). Then, visit after visit, in two fresh browser contexts: the consumer at
390x844 (a phone), the provider at 1280x900, already on the visit page.

Every time is taken inside the pages, not by polling from Python: visit_probe.js, installed
before the page's scripts, stamps `performance.timeOrigin + performance.now()` on each
<body data-stage> change, each click, each online/offline event, each WebSocket's opening,
and the first getStats() poll (every 10 ms) finding inbound video framesDecoded > 0 on each
RTCPeerConnection the page makes. So a "first frame" is late by at most one poll plus one
getStats call. The two pages' stamps share the machine's clock. Python only drives the
pages and waits for the stamps to appear. Per visit:

- join: link open (the join page's navigation start) to the waiting room shown (data-stage
  "lobby", set in the task that writes the queue position), device check included, with
  the clicks the consumer made on the way (counted in the page), split into the page
  (open to the check shown), the check (the "Start the check" click to the "Continue" click,
  which Playwright makes as soon as the button can be clicked) and entering (Continue to
  the waiting room: media, WebSocket, hello, welcome);
- admit: the provider's "Admit" click to the first decoded remote frame, at the consumer
  and at the provider;
- rejoin after a dropped network: the consumer's context goes offline (`--offline`
  seconds, 1 by default), then online; from the page's `online` event to the first frame
  on a peer connection made after it, at both sides (the page reconnects its WebSocket,
  resumes, and offers a new connection), and to the first WebSocket opened after it;
- rejoin after a reload: from the new page's navigation start to the first frame on a new
  peer connection, at both sides (the check passed before, so the page goes straight in).

Reports p50, p99, min, max and n of each, in seconds (with 20 visits p99 is the slowest);
a step that takes over 30 s fails its visit, which is reported with the error (what that
visit had measured before stays in) and the next visit runs. Costs about 13 s per visit
and 0.8 core while a call runs: take the shared browser lock, e.g.
`flock /tmp/browser.lock .venv/bin/python benchmarks/visit.py --visits 20`.
benchmarks/run.py runs it last, with its own `--visits` (5 by default) or not (`--no-visit`).
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from harness import load_average, percentile, server
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from seed import POSTGRES_ADMIN_URL, ServiceShape, create_services

from openvisit.addresses import Client
from openvisit.auth.sessions import SESSION_COOKIE, start_session
from openvisit.bookings import businesses, records
from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.bookings.authority import Authority
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.clock import SystemClock
from openvisit.join_links import join_token
from openvisit.meetings.appointment_meetings import meeting_of
from openvisit.meetings.staff_users import create_user
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade

CHROMIUM = "/usr/bin/chromium"
# The flags of tests/e2e/conftest.py's media browser (shared/notes/media-stack.md).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PROBE = (Path(__file__).parent / "visit_probe.js").read_text(encoding="utf-8")
STEP_MS = 30_000  # the longest any one step may take on a loaded machine
DATABASE = "openvisit_bench_visit"
MANAGER = Authority(actor="benchmark", override_hours=True)
VISIT = ServiceShape("visit", "Visit", 30)
PROVIDER_EMAIL = "ann@example.test"

# (figure, side): what the report prints, in this order.
JOIN = ("link open -> waiting room", "consumer, device check included")
PAGE = ("  page: link open -> check shown", "")
CHECK = ("  check: Start -> Continue click", "")
ENTER = ("  entering: Continue -> waiting room", "")
ADMIT = ("admit -> first remote frame", "consumer"), ("admit -> first remote frame", "provider")
BACK = ("network back -> frames again", "consumer"), ("network back -> frames again", "provider")
SOCKET = ("  socket: network back -> WebSocket open", "")
RELOAD = ("reload -> frames again", "consumer"), ("reload -> frames again", "provider")
FIGURES = (JOIN, PAGE, CHECK, ENTER, *ADMIT, *BACK, SOCKET, *RELOAD)


@dataclass(frozen=True)
class Seeded:
    provider_cookie: str
    visits: list[tuple[str, str, str]]  # (meeting id, consumer join token, consumer name)


def seed(url: str, secret: str, count: int) -> Seeded:
    """A clinic with Dr. Ann and `count` online visits an hour apart from tomorrow on."""
    clock = SystemClock()
    db = Database(url)
    business = businesses.create_business(
        db,
        clock,
        {
            "display_name": "Visit Benchmark Clinic",
            "default_currency_iso": "USD",
            "business_hours": [],
            "booking_page_settings": {"businessTimeZone": "America/New_York"},
        },
        id_domain="bench.openvisit.local",
        actor="benchmark",
    )
    ann = records.create_record(
        db,
        clock,
        STAFF_MEMBERS,
        business.id,
        {"display_name": "Dr. Ann", "role": "teamMember", "email_address": PROVIDER_EMAIL},
        actor="benchmark",
    ).id
    service = create_services(db, clock, business.id, [VISIT], [ann])[VISIT.key]
    first = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    visits = []
    for n in range(count):
        name = f"Patient {n + 1}"
        request = AppointmentRequest(
            service_id=service,
            start=first + timedelta(hours=n),
            staff_ids=(ann,),
            customers=({"name": name, "emailAddress": f"patient{n + 1}@example.test"},),
            details={"isLocationOnline": True},
        )
        appointment = book(db, clock, business.id, request, authority=MANAGER)
        with db.read() as session:
            meeting = meeting_of(session, appointment.id)
        if meeting is None:
            raise RuntimeError("an online appointment has its meeting")
        token = join_token(
            secret, meeting.id, role="consumer", version=0, end=appointment.end_date_time
        )
        visits.append((meeting.id, token, name))
    user = create_user(
        db, clock, email=PROVIDER_EMAIL, role="teamMember", password=None,
        display_name="Dr. Ann", actor="benchmark",
    )  # fmt: skip
    with db.write() as session:
        signed_in = start_session(
            session, clock.now(), user.id, max_age_seconds=24 * 3600,
            client=Client("127.0.0.1", "benchmark"),
        )  # fmt: skip
    db.dispose()
    return Seeded(signed_in.nonce, visits)


@dataclass
class Samples:
    """Seconds per figure over the visits, the consumer's clicks to the waiting room."""

    seconds: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    clicks: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, figure: tuple[str, str], since_ms: float, until_ms: float) -> None:
        self.seconds.setdefault(figure, []).append((until_ms - since_ms) / 1000)


def _probe(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        "() => ({origin: performance.timeOrigin, ...window.visitProbe})"
    )
    return found


def _first_frame(page: Page, since_ms: float) -> float:
    """When the page first decoded remote video on a peer connection made after since_ms."""
    page.wait_for_function(
        "(since) => window.visitProbe.peers.some((p) => p.created >= since && p.firstFrame)",
        arg=since_ms,
        timeout=STEP_MS,
    )
    peers = _probe(page)["peers"]
    return min(
        float(p["firstFrame"]) for p in peers if p["created"] >= since_ms and p["firstFrame"]
    )


def _stage_at(probe: dict[str, Any], stage: str) -> float:
    return float(next(item["at"] for item in probe["stages"] if item["stage"] == stage))


def _click_at(probe: dict[str, Any], label: str) -> float:
    return float(next(item["at"] for item in reversed(probe["clicks"]) if label in item["label"]))


class Visit:
    """One visit's two browser contexts and the steps the benchmark times."""

    def __init__(self, browser: Browser, base: str, cookie: str) -> None:
        self.base = base
        self.contexts: list[BrowserContext] = []
        self.consumer = self._page(browser, PHONE)
        self.provider = self._page(browser, DESKTOP)
        self.provider.context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base}])

    def _page(self, browser: Browser, viewport: ViewportSize) -> Page:
        phone = viewport["width"] < 600
        context = browser.new_context(
            viewport=viewport, locale="en-US", timezone_id="America/New_York",
            is_mobile=phone, has_touch=phone,
        )  # fmt: skip
        self.contexts.append(context)
        context.grant_permissions(["camera", "microphone"], origin=self.base)
        context.add_init_script(PROBE)
        context.set_default_timeout(STEP_MS)
        return context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def join(self, samples: Samples, meeting_id: str, token: str) -> None:
        self.provider.goto(f"{self.base}/visits/{meeting_id}")
        you = self.consumer
        you.goto(f"{self.base}/join/{token}")
        you.get_by_role("button", name="Start the check").click()
        you.get_by_role("button", name="Continue to the waiting room").click()
        you.wait_for_function(
            "() => window.visitProbe.stages.some((s) => s.stage === 'lobby')", timeout=STEP_MS
        )
        probe = _probe(you)
        lobby, check = _stage_at(probe, "lobby"), _stage_at(probe, "check")
        start, go = _click_at(probe, "Start the check"), _click_at(probe, "Continue")
        samples.add(JOIN, probe["origin"], lobby)
        samples.add(PAGE, probe["origin"], check)
        samples.add(CHECK, start, go)
        samples.add(ENTER, go, lobby)
        samples.clicks.append(len([c for c in probe["clicks"] if c["at"] <= lobby]))

    def admit(self, samples: Samples, name: str) -> None:
        self.provider.get_by_role("button", name=f"Admit {name}").click()
        admitted = _click_at(_probe(self.provider), "Admit")
        samples.add(ADMIT[0], admitted, _first_frame(self.consumer, admitted))
        samples.add(ADMIT[1], admitted, _first_frame(self.provider, admitted))

    def drop_network(self, samples: Samples, offline_seconds: float) -> None:
        you = self.consumer
        you.context.set_offline(True)
        you.wait_for_function("() => window.visitProbe.offline.length > 0", timeout=STEP_MS)
        you.wait_for_timeout(offline_seconds * 1000)
        you.context.set_offline(False)
        you.wait_for_function("() => window.visitProbe.online.length > 0", timeout=STEP_MS)
        back = float(_probe(you)["online"][-1])
        samples.add(BACK[0], back, _first_frame(you, back))
        samples.add(BACK[1], back, _first_frame(self.provider, back))
        sockets = _probe(you)["sockets"]
        samples.add(SOCKET, back, min(s["opened"] for s in sockets if (s["opened"] or 0) >= back))

    def reload(self, samples: Samples) -> None:
        self.consumer.reload()
        began = float(_probe(self.consumer)["origin"])
        samples.add(RELOAD[0], began, _first_frame(self.consumer, began))
        samples.add(RELOAD[1], began, _first_frame(self.provider, began))


def run_visits(base: str, seeded: Seeded, offline_seconds: float) -> Samples:
    samples = Samples()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for meeting_id, token, name in seeded.visits:
                visit = Visit(browser, base, seeded.provider_cookie)
                try:
                    visit.join(samples, meeting_id, token)
                    visit.admit(samples, name)
                    visit.drop_network(samples, offline_seconds)
                    visit.reload(samples)
                except PlaywrightError as error:  # a timeout too: reported, not fatal
                    samples.failures.append(f"{name}: {str(error).splitlines()[0]}")
                finally:
                    visit.close()
        finally:
            browser.close()
    return samples


@contextmanager
def _database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'visit.db'}"
        upgrade(url)
        yield url
        return
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def report(visits: int, *, backend: str = "sqlite", offline_seconds: float = 1.0) -> list[str]:
    """Seed, serve, run the visits; the lines to print."""
    lines = [
        f"\nThe visit in the browser ({visits} visits, {backend}, chromium, loopback;"
        f" seconds); load average {load_average()}"
    ]
    secret = secrets.token_urlsafe(48)
    began = time.perf_counter()
    env = {"OPENVISIT_SECRET_KEY": secret, "OPENVISIT_NOTIFICATIONS_IN_SERVER": "false"}
    with (
        tempfile.TemporaryDirectory(prefix="openvisit-bench-visit-") as folder,
        _database(backend, Path(folder)) as url,
    ):
        seeded = seed(url, secret, visits)
        with server(url, Path(folder) / "data", env=env) as served:
            samples = run_visits(served.base, seeded, offline_seconds)
    lines += _lines(samples)
    lines.append(
        f"  ({time.perf_counter() - began:.0f} s in all; load average now {load_average()})"
    )
    return lines


def _lines(samples: Samples) -> list[str]:
    lines = []
    if samples.clicks:
        clicks = sorted(samples.clicks)
        lines.append(
            f"  clicks, link open -> waiting room: {clicks[0]}"
            + ("" if clicks[0] == clicks[-1] else f"-{clicks[-1]}")
            + f" (n {len(clicks)})"
        )
    for figure in FIGURES:
        values = samples.seconds.get(figure, [])
        label = f"{figure[0]}{', ' + figure[1] if figure[1] else ''}"
        if not values:
            lines.append(f"  {label:<58} no samples")
            continue
        lines.append(
            f"  {label:<58} p50 {percentile(values, 0.5):6.2f}  p99 {percentile(values, 0.99):6.2f}"
            f"  min {min(values):6.2f}  max {max(values):6.2f}  n {len(values)}"
        )
    lines.append(f"  failed visits: {len(samples.failures)}")
    lines += [f"    {failure}" for failure in samples.failures]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=20, help="visits timed, one after another")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--offline", type=float, default=1.0, help="seconds the consumer's network stays down"
    )
    args = parser.parse_args()
    print("\n".join(report(args.visits, backend=args.backend, offline_seconds=args.offline)))


if __name__ == "__main__":
    main()
