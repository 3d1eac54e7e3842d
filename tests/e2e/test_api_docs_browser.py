"""/docs in Chromium: Swagger UI renders the API from our own files, with no request
leaving the machine and nothing refused by the page's Content-Security-Policy."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Route, expect

from tests.e2e.test_sign_in_browser import collect_csp_violations
from tests.live import serve

pytestmark = pytest.mark.e2e

# Set to a folder to keep the screenshot for a look (docs/web.md says how).
SCREENSHOT_DIR = os.environ.get("OPENVISIT_TEST_SCREENSHOTS")


def test_api_docs_render_offline_under_the_csp(app, browser_context: BrowserContext, tmp_path):
    page = browser_context.new_page()
    violations = collect_csp_violations(page)
    foreign: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # what a CDN page would fetch: refuse it, and remember it
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    with serve(app) as base_url:
        page.goto(f"{base_url}/docs")
        cancel = page.locator("#operations-bookingAppointment-bookingAppointment_Cancel")
        # The first view builds the 350 KB document and Swagger UI parses all of it: on
        # two loaded cores, under coverage, that has taken longer than the default 5 s.
        expect(cancel).to_be_visible(timeout=30_000)
        expect(page.get_by_text("OpenVisit", exact=False).first).to_be_visible()
        cancel.click()
        expect(page.get_by_text("BookingsAppointment.ReadWrite.All").first).to_be_visible()
        page.screenshot(path=str(Path(SCREENSHOT_DIR or tmp_path) / "api-docs.png"))

    assert foreign == []
    assert violations == []
