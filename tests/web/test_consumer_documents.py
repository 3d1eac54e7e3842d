"""The consumer's documents page behind the manage link, through the real app: listing,
uploading with a CSRF token, the limits' messages in the reader's language, downloads'
headers, and links that open nothing."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from openvisit.bookings import businesses
from openvisit.bookings.appointments import cancel
from openvisit.bookings.document_store import DocumentStore
from openvisit.bookings.manage_links import manage_token_for
from openvisit.consumer_links import MANAGE_VALID_AFTER_END
from openvisit.runtime import Runtime
from openvisit.store.models import Appointment
from openvisit.web.consumer.documents import CSRF_COOKIE
from tests.bookings import sample_files
from tests.bookings.clinic import CONSUMER, Clinic, book_at, make_clinic
from tests.conftest import TEST_SECRET
from tests.factories import make_documents
from tests.web.test_sign_in import csrf_from

_NOTICE = re.compile(r'<p class="(notice|error)"[^>]*>([^<]+)</p>')


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    clinic = make_clinic(runtime)
    make_documents(runtime, clinic["business"], clinic["visit"])
    return clinic


@pytest.fixture
def browser(app: FastAPI) -> TestClient:
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def booked(runtime: Runtime, clinic: Clinic) -> tuple[str, str]:
    """(appointment id, its documents page), booked from Berlin for New York's 10:00."""
    appointment = book_at(runtime, clinic, customer_time_zone="Europe/Berlin")
    return appointment.id, f"/manage/{manage_token_for(TEST_SECRET, appointment)}/documents"


def messages(response: Any) -> list[str]:
    return [text.strip() for _kind, text in _NOTICE.findall(response.text)]


def send(
    browser: TestClient,
    page: str,
    data: bytes,
    name: str = "meds.txt",
    *,
    csrf: str | None = None,
    query: str = "",
) -> Any:
    token = csrf if csrf is not None else csrf_from(browser.get(page + query))
    files = {"file": (name, data, "application/octet-stream")}
    return browser.post(page + query, data={"csrf_token": token}, files=files)


def stored(runtime: Runtime) -> list[bytes]:
    return sorted(path.read_bytes() for path in sample_files.files_under(runtime.documents.root))


def test_the_page_lists_the_prerequisites_in_the_consumers_zone(browser, booked):
    _appointment, page = booked
    response = browser.get(page)

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Documents for your appointment" in response.text
    # 10:00 in New York, read in Berlin.
    assert "Tuesday, November 24, 2026 at 4:00\u202fPM, Berlin (UTC+01:00)" in response.text
    assert re.search(rf'<a href="{page}/[0-9a-f-]{{36}}">Intake form.pdf</a>', response.text)
    assert '<a href="https://example.test/consent" rel="noopener noreferrer">' in response.text
    assert "Sign it at home" in response.text
    assert "You have not sent any documents yet." in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    cookie = response.headers["set-cookie"]
    assert f"{CSRF_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "Path=/manage" in cookie
    assert "SameSite=lax" in cookie


def test_a_file_is_sent_and_listed(browser, runtime, booked):
    _appointment, page = booked
    sent = send(browser, page, sample_files.text(), "C:\\Users\\me\\meds.txt")

    assert sent.status_code == 303
    assert sent.headers["location"] == f"{page}?sent=1"
    after = browser.get(sent.headers["location"])
    assert messages(after) == ["Thank you, your document was received."]
    assert re.search(rf'<a href="{page}/[0-9a-f-]{{36}}">meds.txt</a>', after.text)
    assert f"(TXT, {len(sample_files.text())} B)" in after.text
    assert stored(runtime) == sorted([sample_files.pdf(), sample_files.text()])


def test_german_comes_from_the_switcher_the_booking_the_browser_or_the_business(
    browser, runtime, clinic, booked
):
    _appointment, page = booked
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}

    by_browser = browser.get(page, headers=german)
    by_switch = browser.get(f"{page}?lang=de")
    back_to_english = browser.get(f"{page}?lang=en", headers=german)
    businesses.update_business(
        runtime.db, runtime.clock, clinic["business"], {"language_tag": "de-DE"}, actor="test"
    )
    by_business = browser.get(page)

    for response in (by_browser, by_switch, by_business):
        assert '<html lang="de">' in response.text
        assert "Dokumente zu Ihrem Termin" in response.text
        assert "Dienstag, 24. November 2026 um 16:00, Berlin (UTC+01:00)" in (response.text)
    assert "Documents for your appointment" in back_to_english.text


def test_refusals_are_told_in_the_readers_language(browser, runtime, booked):
    _appointment, page = booked
    program = send(browser, page, sample_files.windows_exe(), "scan.pdf", query="?lang=de")
    empty = send(browser, page, b"", "empty.txt")
    nothing_chosen = send(browser, page, b"", "")

    assert program.status_code == 415
    assert messages(program) == [
        "Diese Art von Datei kann nicht gesendet werden. Bitte senden Sie ein PDF, ein Foto "
        "(JPEG, PNG oder HEIC) oder eine reine Textdatei."
    ]
    assert (empty.status_code, messages(empty)) == (400, ["The file is empty."])
    assert (nothing_chosen.status_code, messages(nothing_chosen)) == (
        400,
        ["Please choose a file to send."],
    )
    assert stored(runtime) == [sample_files.pdf()]


def test_a_form_without_its_csrf_token_stores_nothing(browser, runtime, booked):
    _appointment, page = booked
    forged = send(browser, page, sample_files.text(), csrf="0" * 64)
    # A token copied from someone's page is worthless without that browser's cookie.
    stranger = TestClient(browser.app, follow_redirects=False)
    cross_site = send(stranger, page, sample_files.text(), csrf=csrf_from(browser.get(page)))

    for response in (forged, cross_site):
        assert response.status_code == 400
        assert messages(response) == ["This form has expired. Please try again."]
    assert stored(runtime) == [sample_files.pdf()]


@pytest.fixture
def small_uploads(app: FastAPI, runtime: Runtime) -> Runtime:
    small = dataclasses.replace(
        runtime,
        documents=DocumentStore(
            runtime.documents.root,
            max_bytes=4096,
            max_files_per_appointment=2,
            max_total_bytes_per_appointment=5120,
        ),
    )
    app.state.runtime = small
    return small


def test_the_limits_have_their_own_messages(browser, small_uploads, booked):
    _appointment, page = booked
    over_file = send(browser, page, b"x" * 4097)
    over_cap = browser.post(
        page + "?lang=de",
        files={"file": ("big.txt", b"x" * (small_uploads.documents.max_request_bytes + 1))},
    )
    first = send(browser, page, b"a" * 4000, "a.txt")
    over_total = send(browser, page, b"b" * 1200, "b.txt")
    second = send(browser, page, b"c" * 100, "c.txt")
    too_many = send(browser, page, b"d", "d.txt")

    assert over_file.status_code == 413
    assert messages(over_file) == ["The file is larger than 4 KiB, the most that can be sent."]
    # Refused before the form was read, yet a page, in the reader's language.
    assert over_cap.status_code == 413
    assert over_cap.headers["content-type"].startswith("text/html")
    assert messages(over_cap) == ["Die Datei ist größer als 4 KiB, die höchstens mögliche Größe."]
    assert f'<a href="{page}">' in over_cap.text
    assert (first.status_code, second.status_code) == (303, 303)
    assert over_total.status_code == 409
    assert messages(over_total) == [
        "Together, your documents would take more than 5 KiB. Delete one or send a smaller file."
    ]
    assert too_many.status_code == 409
    assert "You have sent 2 documents" in messages(too_many)[0]
    assert "You have sent as many documents as this appointment takes." in too_many.text
    assert stored(small_uploads) == sorted([sample_files.pdf(), b"a" * 4000, b"c" * 100])


def test_downloads_are_attachments_of_their_own_type(browser, booked):
    _appointment, page = booked
    send(browser, page, b"<script>alert(1)</script> notes", "notes.html")
    listing = browser.get(page).text
    found = re.findall(rf'<a href="({page}/[0-9a-f-]{{36}})">([^<]+)</a>', listing)
    links = {name: href for href, name in found}

    notes = browser.get(links["notes.html"])
    intake = browser.get(links["Intake form.pdf"])

    assert notes.status_code == 200
    assert notes.content == b"<script>alert(1)</script> notes"
    assert notes.headers["content-type"] == "text/plain; charset=utf-8"
    assert notes.headers["content-disposition"].startswith('attachment; filename="notes.html.txt"')
    assert notes.headers["content-security-policy"] == "sandbox"
    assert notes.headers["x-content-type-options"] == "nosniff"
    assert intake.content == sample_files.pdf()
    assert intake.headers["content-type"] == "application/pdf"


def test_a_consumer_deletes_their_own_upload(browser, runtime, booked):
    _appointment, page = booked
    send(browser, page, sample_files.png(), "x-ray.png")
    listing = browser.get(page)
    action = re.search(r'<form method="post" action="([^"]+/delete)"', listing.text)
    assert action is not None

    deleted = browser.post(action.group(1), data={"csrf_token": csrf_from(listing)})

    assert deleted.status_code == 303
    assert messages(browser.get(deleted.headers["location"])) == ["The document was deleted."]
    assert stored(runtime) == [sample_files.pdf()]


def test_another_appointments_document_is_not_there(browser, runtime, clinic, booked):
    _appointment, page = booked
    other = book_at(runtime, clinic, staff=("bob",))
    other_page = f"/manage/{manage_token_for(TEST_SECRET, other)}/documents"
    send(browser, other_page, sample_files.text())
    [their_link] = re.findall(
        rf'<a href="{other_page}/([0-9a-f-]{{36}})">meds.txt', browser.get(other_page).text
    )

    response = browser.get(f"{page}/{their_link}")

    assert response.status_code == 404
    assert messages(response) == ["This document does not exist."]


@pytest.mark.parametrize("tamper", ["forged", "revoked", "expired"])
def test_a_bad_link_opens_nothing_and_stores_nothing(browser, runtime, booked, tamper):
    appointment, page = booked
    token = csrf_from(browser.get(page))
    expected = "This link is not valid."
    if tamper == "forged":
        page = page.replace("/documents", "x/documents")
    elif tamper == "revoked":
        with runtime.db.write() as session:
            session.execute(
                update(Appointment)
                .where(Appointment.id == appointment)
                .values(link_version=Appointment.link_version + 1)
            )
    else:
        runtime.clock.advance(timedelta(days=2) + MANAGE_VALID_AFTER_END)
        expected = "This link has expired. Please ask the business for a new one."

    shown = browser.get(page)
    posted = send(browser, page, sample_files.text(), csrf=token)

    for response in (shown, posted):
        assert response.status_code == 404
        assert messages(response) == [expected]
    assert stored(runtime) == [sample_files.pdf()]


def test_a_cancelled_appointment_shows_its_documents_but_takes_no_more(browser, runtime, clinic):
    appointment = book_at(runtime, clinic)
    page = f"/manage/{manage_token_for(TEST_SECRET, appointment)}/documents"
    send(browser, page, sample_files.text())
    token = csrf_from(browser.get(page))
    cancel(runtime.db, runtime.clock, clinic["business"], appointment.id, None, authority=CONSUMER)

    shown = browser.get(page)
    posted = send(browser, page, sample_files.png(), "x-ray.png", csrf=token)

    assert "This appointment is cancelled." in shown.text
    assert "No documents can be sent for a cancelled appointment." in shown.text
    assert 'enctype="multipart/form-data"' not in shown.text
    assert "meds.txt" in shown.text
    assert posted.status_code == 409
    assert messages(posted)[-1] == "This appointment is cancelled, so no documents can be sent."
