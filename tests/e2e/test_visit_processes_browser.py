"""A whole visit with the consumer on one server process and the provider on another.

Two real server processes (tests/processes.py) share one PostgreSQL database and a
private redis-server as their event bus. The consumer's browser context talks only to
process A, the provider's only to process B: the lobby position, the arrival on the
provider's page, the admit, the call's signaling (media both ways), chat both ways and
the end all cross from one process to the other. Heavy (two browser contexts in a
call): run it alone. The same without a browser, on Redis and on PostgreSQL
LISTEN/NOTIFY: tests/realtime/test_processes.py.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from openvisit.auth.sessions import SESSION_COOKIE
from openvisit.clock import FixedClock
from openvisit.runtime import Runtime
from openvisit.store.db import Database
from tests.bus.servers import RedisServer
from tests.databases import PostgresDatabase
from tests.e2e.test_visit_call_browser import DESKTOP, MORNING, PHONE, Side, stored_chat
from tests.processes import bus_settings, server_processes
from tests.visits import Visit, make_visit

pytestmark = pytest.mark.e2e


@pytest.fixture
def database(postgres_database: PostgresDatabase) -> Iterator[Database]:
    """Two processes share one database: PostgreSQL."""
    with postgres_database.database() as database:
        yield database


@pytest.fixture
def visit(runtime: Runtime, clock: FixedClock) -> Visit:
    booked = make_visit(dataclasses.replace(runtime, session_max_age_seconds=48 * 3600))
    clock.advance(MORNING - clock.now())
    return booked


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sides() -> Iterator[list[Side]]:
    made: list[Side] = []
    yield made
    for side in made:
        side.context.close()


def test_a_visit_across_two_processes(
    media_chromium: Browser,
    postgres_database: PostgresDatabase,
    private_redis: RedisServer,
    runtime: Runtime,
    visit: Visit,
    tmp_path: Path,
    sides: list[Side],
) -> None:
    settings = bus_settings(
        "redis", database_url=postgres_database.url, redis_url=private_redis.url
    )
    settings["OPENVISIT_SESSION_MAX_AGE_SECONDS"] = str(48 * 3600)
    with server_processes(tmp_path, MORNING, settings) as (first, second):
        consumer = Side(media_chromium, first.base_url, PHONE)
        provider = Side(media_chromium, second.base_url, DESKTOP)
        sides += [consumer, provider]
        provider.context.add_cookies(
            [{"name": SESSION_COOKIE, "value": visit.provider_cookie, "url": second.base_url}]
        )
        you, board = consumer.page, provider.page
        board.goto(f"{second.base_url}/visits/{visit.meeting_id}")

        # The consumer, on A: device check, then first in line.
        you.goto(f"{first.base_url}/join/{visit.consumer_token}")
        you.get_by_role("button", name="Start the check").click()
        you.get_by_role("button", name="Continue to the waiting room").click(timeout=30000)
        expect(you.get_by_text("You are number 1 in line")).to_be_visible(timeout=15000)
        you.get_by_label("Message to the staff").fill("I am here, a bit early.")
        you.get_by_role("button", name="Send").click()

        # The provider, on B, sees them waiting with their check and message; answers.
        item = board.locator("#waiting-list > li").filter(has_text="Jordan Lee")
        expect(item).to_be_visible(timeout=15000)
        expect(item.get_by_text(re.compile("Device check passed"))).to_be_visible()
        expect(item.locator(".lobby-thread")).to_contain_text("I am here, a bit early.")
        item.get_by_label("Message").fill("Welcome, one moment please.")
        item.get_by_role("button", name="Send").click()
        expect(you.locator("#lobby-chat")).to_contain_text("Welcome, one moment please.")

        # Admitted from B; media both ways through signaling that crosses processes.
        item.get_by_role("button", name="Admit Jordan Lee").click()
        expect(you.locator("#stage-call")).to_be_visible(timeout=15000)
        their_stats = consumer.media_arrives()
        our_stats = provider.media_arrives()
        assert len(their_stats) == len(our_stats) == 1

        # Chat both ways in the call.
        board.get_by_role("button", name="Chat").click()
        board.get_by_label("Message", exact=True).fill("Can you hear me?")
        board.locator("#call-chat-form").get_by_role("button", name="Send").click()
        you.get_by_role("button", name=re.compile("^Chat")).click()
        expect(you.locator("#call-chat")).to_contain_text("Can you hear me?")
        you.get_by_label("Message", exact=True).fill("Yes, loud and clear.")
        you.locator("#call-chat-form").get_by_role("button", name="Send").click()
        expect(board.locator("#call-chat")).to_contain_text("Yes, loud and clear.")

        # B ends it for everyone; A's consumer is told.
        board.once("dialog", lambda dialog: dialog.accept())
        board.get_by_role("button", name="End for all").click()
        expect(you.get_by_role("heading", name="The visit has ended")).to_be_visible(timeout=15000)
        logs = first.log_text() + second.log_text()

    assert "event bus: redis" in logs
    assert stored_chat(_AppView(runtime)) == [
        ("consumer", "lobby", "I am here, a bit early."),
        ("provider", "lobby", "Welcome, one moment please."),
        ("provider", "call", "Can you hear me?"),
        ("consumer", "call", "Yes, loud and clear."),
    ]
    for side in sides:
        assert side.errors == []
        assert side.csp == []


@dataclasses.dataclass
class _State:
    runtime: Runtime


class _AppView:
    """What stored_chat reads (app.state.runtime), for the runtime of this test."""

    def __init__(self, runtime: Runtime) -> None:
        self.state = _State(runtime)
