"""Browser tests: the real server in a thread, driven by Debian's headless Chromium.

They run on SQLite only. What differs between the backends sits below HTTP and is covered
on both by tests/web; a browser run per backend would double the slowest tests for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from openvisit.store.db import Database
from tests.databases import SqliteTemplate

CHROMIUM = "/usr/bin/chromium"  # Debian's build; scripts/ensure-chromium installs it
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Playwright's expect() gives up after 5 s, sized for a quick machine; CI's two loaded
# cores, the server under coverage in this process, have needed more for a first render.
# These tests check what the pages do, not how fast (benchmarks/ measure that).
EXPECT_TIMEOUT_MS = 15_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture
def database(sqlite_template: SqliteTemplate) -> Iterator[Database]:
    """Overrides the backend-parametrized fixture: one SQLite database per test."""
    with sqlite_template.database() as database:
        yield database


# Module scope, not session: the sync API holds an asyncio loop in this thread while it
# runs, and a later test calling asyncio.run() (the msgraph-sdk tests do) would fail.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test: no cookies carried over from another test."""
    context = chromium.new_context()
    yield context
    context.close()


# Fake camera and microphone (a test pattern and a beep) and loopback ICE, as measured in
# shared/notes/media-stack.md. No --use-fake-ui-for-media-stream: each context grants
# (or withholds) the camera and microphone itself, so a test can also see them blocked.
MEDIA_ARGS = [
    *CHROMIUM_ARGS,
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def media_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=MEDIA_ARGS)
        yield browser
        browser.close()
