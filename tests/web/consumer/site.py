"""A published New York clinic for the consumer page tests, and helpers that read pages."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from httpx2 import Response  # the client starlette.testclient is built on

from openvisit.auth.sessions import csrf_token
from openvisit.bookings import businesses, records
from openvisit.bookings.services import SERVICES
from openvisit.runtime import Runtime
from tests.bookings.clinic import Clinic, make_clinic
from tests.conftest import TEST_SECRET
from tests.factories import make_question

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_SLOT = re.compile(r'name="start" value="([^"]+)"')
_MANAGE = re.compile(r"/manage/([A-Za-z0-9_.~-]+)")


def make_site(runtime: Runtime, **settings: Any) -> Clinic:
    """The clinic of tests/bookings, published, with a required and an optional question
    on its visit; `settings` go into bookingPageSettings."""
    clinic = make_clinic(runtime)
    reason = make_question(runtime, clinic["business"], "What brings you in?")
    channel = make_question(
        runtime,
        clinic["business"],
        "How did you hear of us?",
        answer_input_type="radioButton",
        answer_options=["Friend", "Web"],
    )
    clinic["reason"], clinic["channel"] = reason, channel
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        clinic["business"],
        clinic["visit"],
        {
            "custom_questions": [
                {"questionId": reason, "isRequired": True},
                {"questionId": channel, "isRequired": False},
            ]
        },
        actor="test",
    )
    page_settings = {"businessTimeZone": "America/New_York", **settings}
    businesses.update_business(
        runtime.db,
        runtime.clock,
        clinic["business"],
        {
            "booking_page_settings": page_settings,
            "language_tag": "en-US",
            "phone": "+1 212 555 0100",
            "email": "desk@clinic.example",
            "address": {"city": "New York", "countryOrRegion": "USA"},
        },
        actor="test",
    )
    businesses.publish_business(runtime.db, runtime.clock, clinic["business"], actor="test")
    return clinic


def csrf_of(response: Response) -> str:
    match = _CSRF.search(response.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def page_csrf(client: TestClient) -> str:
    """The CSRF token for the browser's cookie, as any consumer form of it carries."""
    return csrf_token(TEST_SECRET, client.cookies["openvisit_page_csrf"])


def hidden_of(response: Response) -> dict[str, str]:
    return dict(_HIDDEN.findall(response.text))


def slots_of(response: Response) -> list[str]:
    return _SLOT.findall(response.text)


def token_of(location: str) -> str:
    match = _MANAGE.search(location)
    assert match, location
    return match.group(1).split("/")[0]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def details_url(clinic: Clinic, service: str = "visit") -> str:
    return f"/book/{clinic['business']}/services/{clinic[service]}/details"


def open_details(
    client: TestClient, clinic: Clinic, start: str, *, tz: str = "Asia/Kolkata", staff: str = ""
) -> Response:
    response = client.get(
        details_url(clinic), params={"start": start, "tz": tz, "staff": staff or "anyone"}
    )
    assert response.status_code == 200, response.text
    return response


def fill(form_page: Response, **fields: str) -> dict[str, str]:
    """The details form as a browser would send it: its hidden fields and `fields`."""
    values = {
        "name": "Priya Raman",
        "email": "priya@example.test",
        "phone": "",
        "answer-0": "A cough",
        "website": "",
        **hidden_of(form_page),
        "csrf_token": csrf_of(form_page),
    }
    values.update(fields)
    return values


def first_slot(client: TestClient, clinic: Clinic, *, tz: str = "Asia/Kolkata") -> str:
    page = client.get(f"/book/{clinic['business']}/services/{clinic['visit']}", params={"tz": tz})
    assert page.status_code == 200, page.text
    return slots_of(page)[0]


def book_through_page(
    client: TestClient, clinic: Clinic, *, tz: str = "Asia/Kolkata", **fields: str
) -> Response:
    """Walk the steps (times, details) and post the form; the POST's response."""
    start = fields.pop("start", "") or first_slot(client, clinic, tz=tz)
    form_page = open_details(client, clinic, start, tz=tz, staff=fields.pop("staff", ""))
    return client.post(details_url(clinic), data=fill(form_page, **fields), follow_redirects=False)
