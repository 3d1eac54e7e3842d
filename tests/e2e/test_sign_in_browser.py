"""A staff member signs in and out through the real login form in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from openvisit.meetings.staff_users import create_user
from openvisit.runtime import Runtime
from tests.live import serve

pytestmark = pytest.mark.e2e

EMAIL = "grace@example.test"
PASSWORD = "correct horse battery"
PAPER = "rgb(245, 246, 248)"  # --paper in openvisit.css: proves the stylesheet loaded


@pytest.fixture
def staff_user(runtime: Runtime) -> None:
    create_user(
        runtime.db,
        runtime.clock,
        email=EMAIL,
        role="administrator",
        password=PASSWORD,
        display_name="Grace Hopper",
    )


def fill_login(page: Page, password: str) -> None:
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def collect_csp_violations(page: Page) -> list[str]:
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    return violations


@pytest.mark.usefixtures("staff_user")
def test_staff_signs_in_and_out(app, browser_context: BrowserContext):
    page = browser_context.new_page()
    violations = collect_csp_violations(page)
    with serve(app) as base_url:
        page.goto(f"{base_url}/staff")
        expect(page).to_have_url(f"{base_url}/login?next=/staff")
        body_background = page.evaluate("getComputedStyle(document.body).backgroundColor")

        fill_login(page, PASSWORD)

        expect(page).to_have_url(f"{base_url}/staff")
        expect(page.get_by_text("Signed in as Grace Hopper (administrator)")).to_be_visible()

        page.get_by_role("button", name="Sign out").click()

        expect(page).to_have_url(f"{base_url}/login")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.goto(f"{base_url}/staff")
        expect(page).to_have_url(re.compile(r"/login\?next=/staff$"))
    assert body_background == PAPER
    assert violations == []


@pytest.mark.usefixtures("staff_user")
def test_wrong_password_shows_the_error(app, browser_context: BrowserContext):
    page = browser_context.new_page()
    with serve(app) as base_url:
        page.goto(f"{base_url}/login")

        fill_login(page, "not the password")

        expect(page.get_by_role("alert")).to_have_text("E-mail or password is wrong.")
        expect(page.get_by_label("E-mail")).to_have_value(EMAIL)
        expect(page.get_by_label("Password")).to_have_value("")

        fill_login(page, PASSWORD)

        expect(page).to_have_url(f"{base_url}/staff")
