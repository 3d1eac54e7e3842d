"""A consumer on a phone sends a document through the manage link's documents page, in
Chromium, with JavaScript on and off; nothing on the page breaks its CSP."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from openvisit.bookings.manage_links import manage_token_for
from openvisit.runtime import Runtime
from tests.bookings import sample_files
from tests.bookings.clinic import book_at, make_clinic
from tests.conftest import TEST_SECRET
from tests.e2e.axe import blocking_violations, serve_axe
from tests.e2e.test_sign_in_browser import collect_csp_violations
from tests.factories import make_documents
from tests.live import serve

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}
# Set to a folder to keep the screenshots for a look (docs/web.md says how).
SCREENSHOT_DIR = os.environ.get("OPENVISIT_TEST_SCREENSHOTS")


@pytest.fixture
def documents_page(runtime: Runtime) -> str:
    clinic = make_clinic(runtime)
    make_documents(runtime, clinic["business"], clinic["visit"])
    booked = book_at(runtime, clinic, customer_time_zone="Europe/Berlin")
    return f"/manage/{manage_token_for(TEST_SECRET, booked)}/documents"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_consumer_sends_a_photo_from_a_phone(
    app, chromium: Browser, documents_page, tmp_path, javascript
):
    context = chromium.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=javascript
    )
    page = context.new_page()
    violations = collect_csp_violations(page)
    serve_axe(page)
    photo = tmp_path / "insurance card.jpg"
    photo.write_bytes(sample_files.jpeg())
    try:
        with serve(app) as base_url:
            # From the manage page the consumer's e-mails link, to its documents page.
            manage_page = documents_page.removesuffix("/documents")
            page.goto(f"{base_url}{manage_page}?lang=de")
            page.get_by_role("link", name="Dokumente zu Ihrem Termin").click()
            expect(page.get_by_role("heading", name="Dokumente zu Ihrem Termin")).to_be_visible()
            expect(page.get_by_role("link", name="Intake form.pdf")).to_be_visible()
            inaccessible = blocking_violations(page, "documents") if javascript else []

            page.get_by_label("Datei").set_input_files(photo)
            page.get_by_role("button", name="Senden").click()

            expect(page.get_by_role("status")).to_have_text(
                "Vielen Dank, Ihr Dokument ist angekommen."
            )
            expect(page.get_by_role("link", name="insurance card.jpg")).to_be_visible()
            # Phone-first: nothing wider than the screen.
            width = page.evaluate("document.documentElement.scrollWidth")
            name = f"documents-phone-{'js' if javascript else 'no-js'}.png"
            page.screenshot(path=str(Path(SCREENSHOT_DIR or tmp_path) / name), full_page=True)
    finally:
        context.close()
    assert width <= PHONE["width"]
    assert violations == []
    assert inaccessible == []


def test_a_file_too_large_is_caught_before_it_is_sent(
    app, chromium: Browser, documents_page, tmp_path
):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    big = tmp_path / "scan.pdf"
    big.write_bytes(sample_files.pdf() + b"x" * app.state.runtime.documents.max_bytes)
    try:
        with serve(app) as base_url:
            page.goto(f"{base_url}{documents_page}")
            page.get_by_label("File").set_input_files(big)
            page.get_by_role("button", name="Send").click()

            expect(page.locator("#file-too-large")).to_have_text(
                "The file is larger than 10 MiB, the most that can be sent."
            )
            expect(page).to_have_url(f"{base_url}{documents_page}")
    finally:
        context.close()
