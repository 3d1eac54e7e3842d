"""A consumer books in Chromium, then reschedules and cancels through the manage link.

At a 390x844 phone viewport and at a desktop size, in English and in German, in a time
zone other than the New York clinic's (the browser's own, which the page detects). axe-core
(tests/e2e/vendor/axe-core) checks every consumer page on the way: no serious or critical
violation. With OPENVISIT_TEST_SCREENSHOTS=<folder> every page is kept at each size.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from openvisit.store.models import Appointment
from tests.e2e.axe import blocking_violations, serve_axe
from tests.e2e.test_sign_in_browser import collect_csp_violations
from tests.live import serve
from tests.web.consumer.site import make_site

pytestmark = pytest.mark.e2e

SCREENSHOT_DIR = os.environ.get("OPENVISIT_TEST_SCREENSHOTS")


@dataclass(frozen=True)
class Case:
    name: str
    viewport: dict[str, int]
    locale: str
    zone: str
    zone_label: str
    texts: dict[str, str]
    booked_time: str  # Tuesday 10:00 in New York, in the consumer's zone
    moved_time: str  # Wednesday 11:00 in New York


ENGLISH = {
    "service": "Visit",
    "continue": "Continue",
    "book": "Book appointment",
    "booked": "Your appointment is booked",
    "manage": "View or change your appointment",
    "another": "Choose another time",
    "move": "Move my appointment",
    "moved": "Your appointment has been moved.",
    "cancel": "Cancel appointment",
    "cancelled": "Your appointment has been cancelled.",
    "name": "Full name",
    "email": "E-mail address",
    "question": "What brings you in?",
    "problem": "Please check the form",
    "tuesday": "Tue",
    "wednesday": "Wed",
    "reason": "Reason (optional)",
}
GERMAN = {
    **ENGLISH,
    "continue": "Weiter",
    "book": "Termin buchen",
    "booked": "Ihr Termin ist gebucht",
    "manage": "Termin ansehen oder ändern",
    "another": "Andere Uhrzeit wählen",
    "move": "Termin verschieben",
    "moved": "Ihr Termin wurde verschoben.",
    "cancel": "Termin absagen",
    "cancelled": "Ihr Termin wurde abgesagt.",
    "name": "Vor- und Nachname",
    "email": "E-Mail-Adresse",
    "problem": "Bitte prüfen Sie das Formular",
    "tuesday": "Di.",
    "wednesday": "Mi.",
    "reason": "Grund (optional)",
}
CASES = [
    Case(
        "phone-en",
        {"width": 390, "height": 844},
        "en-US",
        "Asia/Kolkata",
        "Kolkata (UTC+05:30)",
        ENGLISH,
        "8:30\u202fPM",
        "9:30\u202fPM",
    ),
    Case(
        "desktop-de",
        {"width": 1280, "height": 900},
        "de-DE",
        "Europe/Berlin",
        "Berlin (UTC+01:00)",
        GERMAN,
        "16:00",
        "17:00",
    ),
    Case(
        "phone-de",
        {"width": 390, "height": 844},
        "de-DE",
        "Europe/Berlin",
        "Berlin (UTC+01:00)",
        GERMAN,
        "16:00",
        "17:00",
    ),
    Case(
        "desktop-en",
        {"width": 1280, "height": 900},
        "en-GB",
        "Asia/Kolkata",
        "Kolkata (UTC+05:30)",
        ENGLISH,
        "8:30\u202fPM",  # English pages write times the US way, whatever the region
        "9:30\u202fPM",
    ),
]


class Checks:
    """axe-core and a screenshot for every page the consumer sees."""

    def __init__(self, page: Page, case: Case, folder: Path) -> None:
        self.page, self.case, self.folder = page, case, folder
        self.violations: list[str] = []
        serve_axe(page)

    def page_done(self, step: str) -> None:
        self.violations += blocking_violations(self.page, step)
        self.page.screenshot(path=str(self.folder / f"{self.case.name}-{step}.png"), full_page=True)


def stored_start(app: Any) -> Any:
    with app.state.runtime.db.read() as session:
        appointment = session.scalars(select(Appointment)).one()
        return appointment.start_date_time, appointment.status, appointment.customer_language


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_book_reschedule_and_cancel(app, runtime, chromium: Browser, tmp_path, case: Case):
    site = make_site(runtime)
    context = chromium.new_context(
        viewport=case.viewport,  # type: ignore[arg-type]  # a ViewportSize mapping
        locale=case.locale,
        timezone_id=case.zone,
        bypass_csp=False,
    )
    page = context.new_page()
    csp = collect_csp_violations(page)
    folder = Path(SCREENSHOT_DIR or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    checks = Checks(page, case, folder)
    words = case.texts
    try:
        with serve(app) as base_url:
            page.goto(f"{base_url}/book/{site['business']}/")
            checks.page_done("1-services")

            page.get_by_role("link", name=re.compile(words["service"])).click()
            # The script swaps in the browser's zone (Chromium may name Kolkata by its
            # older alias Asia/Calcutta; both are listed and labelled alike).
            expect(page).to_have_url(re.compile(r"\?tz="))
            expect(page.get_by_text(case.zone_label).first).to_be_visible()
            checks.page_done("2-times")

            page.get_by_role("link", name=re.compile(r"Nov 24|24\. Nov")).first.click()
            page.get_by_label(case.booked_time, exact=True).check()
            page.get_by_role("button", name=words["continue"]).click()
            expect(page.get_by_text(case.zone_label).first).to_be_visible()

            page.get_by_role("button", name=words["book"]).click()
            expect(page.get_by_role("heading", name=words["problem"])).to_be_visible()
            checks.page_done("3-details-errors")

            page.get_by_label(words["name"]).fill("Priya Raman")
            page.get_by_label(words["email"]).fill("priya@example.test")
            page.get_by_label(words["question"]).fill("A cough that will not go")
            checks.page_done("4-details")
            page.get_by_role("button", name=words["book"]).click()

            expect(page.get_by_role("heading", name=words["booked"])).to_be_visible()
            expect(page.get_by_text(case.booked_time).first).to_be_visible()
            checks.page_done("5-booked")
            booked_at, _status, language = stored_start(app)
            assert language == case.locale[:2]

            page.get_by_role("link", name=words["manage"]).click()
            checks.page_done("6-manage")
            page.get_by_role("link", name=words["another"]).click()
            checks.page_done("7-reschedule")
            page.get_by_role("link", name=re.compile(r"Nov 25|25\. Nov")).first.click()
            page.get_by_label(case.moved_time, exact=True).check()
            page.get_by_role("button", name=words["move"]).click()

            expect(page.get_by_text(words["moved"])).to_be_visible()
            expect(page.get_by_text(case.moved_time).first).to_be_visible()
            checks.page_done("8-moved")
            moved_at, _status, _language = stored_start(app)
            assert moved_at > booked_at

            page.get_by_role("link", name=words["cancel"]).click()
            page.get_by_label(words["reason"]).fill("I feel better")
            checks.page_done("9-cancel")
            page.get_by_role("button", name=words["cancel"]).click()

            expect(page.get_by_text(words["cancelled"])).to_be_visible()
            checks.page_done("10-cancelled")
            assert stored_start(app)[1] == "cancelled"

            page.goto(f"{base_url}/manage/not-a-real-link")
            checks.page_done("11-not-found")
    finally:
        context.close()
    assert checks.violations == [], "\n".join(checks.violations)
    assert csp == []
