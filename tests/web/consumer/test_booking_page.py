"""The booking page through the real app: every step with plain forms (JavaScript off),
what a booking stores, and the refusals a consumer meets."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openvisit.addresses import parse_networks
from openvisit.bookings import businesses, records
from openvisit.bookings.page_limits import LIMIT
from openvisit.bookings.services import SERVICES
from openvisit.store.models import Appointment, Customer
from tests.bookings.clinic import book_at
from tests.web.consumer.site import (
    book_through_page,
    details_url,
    fill,
    first_slot,
    make_site,
    open_details,
    slots_of,
    token_of,
)


@pytest.fixture
def site(runtime):
    return make_site(runtime)


def appointments(runtime) -> list[Appointment]:
    with runtime.db.read() as session:
        return list(session.scalars(select(Appointment).order_by(Appointment.start_date_time)))


def customers(runtime) -> int:
    with runtime.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Customer)) or 0)


def test_the_page_lists_the_services_not_hidden_from_customers(client, runtime, site):
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        site["business"],
        site["group"],
        {"is_hidden_from_customers": True},
        actor="test",
    )

    page = client.get(f"/book/{site['business']}/")

    assert page.status_code == 200
    assert f'href="/book/{site["business"]}/services/{site["visit"]}"' in page.text
    assert site["group"] not in page.text
    assert "<h1>Book an appointment</h1>" in page.text
    assert "30 minutes" in page.text
    assert client.get(f"/book/{site['business']}/services/{site['group']}").status_code == 404


def test_an_unpublished_or_unknown_business_is_a_plain_404(client, runtime, site):
    businesses.unpublish_business(runtime.db, runtime.clock, site["business"], actor="test")

    for path in (
        f"/book/{site['business']}/",
        f"/book/{site['business']}/services/{site['visit']}",
        "/book/nobody@openvisit.test/",
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "There is no booking page at this address." in page.text
        assert "Contoso" not in page.text


def test_an_unknown_service_is_a_branded_404(client, site):
    page = client.get(f"/book/{site['business']}/services/no-such-service")

    assert page.status_code == 404
    assert "This service cannot be booked here." in page.text
    assert "Contoso Health" in page.text
    assert f'href="/book/{site["business"]}/brand.css"' in page.text


def test_without_javascript_times_start_in_the_business_zone_labelled(client, site):
    page = client.get(f"/book/{site['business']}/services/{site['visit']}")

    assert page.status_code == 200
    # The test clock is Monday 09:00 in New York with a two-hour lead time.
    assert 'value="2026-11-23T16:00:00Z"' in page.text
    assert "New York (UTC-05:00)" in page.text
    assert 'data-zone-detect="yes"' in page.text  # the script may swap in the browser's zone
    assert '<option value="Asia/Kolkata">Asia/Kolkata</option>' in page.text
    assert "<legend>Free times on Monday, November 23, 2026" in page.text


def test_the_consumer_zone_shows_their_days_and_times(client, site):
    page = client.get(
        f"/book/{site['business']}/services/{site['visit']}",
        params={"tz": "Asia/Kolkata", "day": "2026-11-24"},
    )

    assert 'data-zone-detect="no"' in page.text
    assert "Kolkata (UTC+05:30)" in page.text
    starts = slots_of(page)
    # Tuesday in Kolkata begins at 13:30 on Monday in New York: it holds Monday's New York
    # afternoon (from 00:00 IST) and then Tuesday's New York morning (from 19:30 IST).
    assert starts[0] == "2026-11-23T18:30:00Z"
    assert ">12:00\u202fAM</span>" in page.text
    assert "2026-11-24T14:00:00Z" in starts
    assert ">7:30\u202fPM</span>" in page.text


def test_a_half_hour_zone_across_new_yorks_dst_change(client, clock, site):
    clock.advance(datetime(2027, 3, 11, 14, 0, tzinfo=UTC) - clock.now())  # Thursday

    friday = client.get(
        f"/book/{site['business']}/services/{site['visit']}",
        params={"tz": "Asia/Kolkata", "day": "2027-03-12"},
    )
    monday = client.get(
        f"/book/{site['business']}/services/{site['visit']}",
        params={"tz": "Asia/Kolkata", "week": "2027-03-15", "day": "2027-03-15"},
    )

    # 09:00 in New York is 19:30 in Kolkata on standard time, 18:30 once DST began (Mar 14).
    assert "2027-03-12T14:00:00Z" in slots_of(friday)
    assert ">7:30\u202fPM</span>" in friday.text
    assert "2027-03-15T13:00:00Z" in slots_of(monday)
    assert ">6:30\u202fPM</span>" in monday.text
    assert "2027-03-15T14:00:00Z" not in slots_of(friday)


def test_the_week_pages_forward_and_not_before_today(client, site):
    page = client.get(f"/book/{site['business']}/services/{site['visit']}")

    assert "Earlier days" not in page.text
    later = re.search(r'href="([^"]+week=2026-11-30[^"]*)"', page.text)
    assert later, "no link to the next week"
    next_week = client.get(later.group(1).replace("&amp;", "&"))
    assert "Earlier days" in next_week.text
    assert "2026-11-30T14:00:00Z" in slots_of(next_week)  # Monday 09:00 EST


def test_staff_choice_follows_the_scheduling_policy(client, runtime, site):
    anyone = client.get(f"/book/{site['business']}/services/{site['visit']}")
    assert "Who would you like to see?" in anyone.text
    assert f'value="{site["ann"]}"' in anyone.text

    # Ann is busy at 11:00 (and her buffers): "anyone" still offers 11:00, Ann does not.
    book_at(runtime, site, datetime(2026, 11, 23, 16, 0, tzinfo=UTC), ("ann",))
    ann = client.get(
        f"/book/{site['business']}/services/{site['visit']}", params={"staff": site["ann"]}
    )
    again = client.get(f"/book/{site['business']}/services/{site['visit']}")
    assert "2026-11-23T16:00:00Z" not in slots_of(ann)
    assert "2026-11-23T16:00:00Z" in slots_of(again)
    assert f'value="{site["ann"]}" checked' in ann.text

    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        site["business"],
        site["visit"],
        {"scheduling_policy": {"timeSlotInterval": "PT30M", "allowStaffSelection": False}},
        actor="test",
    )
    closed = client.get(
        f"/book/{site['business']}/services/{site['visit']}", params={"staff": site["ann"]}
    )
    assert "Who would you like to see?" not in closed.text
    assert "2026-11-23T16:00:00Z" in slots_of(closed)  # the chosen name is ignored


def test_booking_stores_the_customer_zone_language_and_answers(client, runtime, site):
    booked = book_through_page(
        client, site, phone="(212) 555-0188", **{"answer-0": "A cough", "answer-1": "Web"}
    )

    assert booked.status_code == 303
    assert booked.headers["location"].endswith("/booked")
    [appointment] = appointments(runtime)
    assert appointment.start_date_time == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert appointment.customer_time_zone == "Asia/Kolkata"
    assert appointment.customer_language == "en"
    customer = appointment.customers[0]
    assert customer["name"] == "Priya Raman"
    assert customer["emailAddress"] == "priya@example.test"
    assert customer["phone"] == "+12125550188"  # read in the business's country (USA)
    assert customer["timeZone"] == "Asia/Kolkata"
    answers = {item["questionId"]: item for item in customer["customQuestionAnswers"]}
    assert answers[site["reason"]]["answer"] == "A cough"
    assert answers[site["channel"]]["selectedOptions"] == ["Web"]
    with runtime.db.read() as session:
        stored = session.get(Customer, customer["customerId"])
        assert stored is not None
        assert stored.email_address == "priya@example.test"

    confirmation = client.get(booked.headers["location"])
    assert confirmation.status_code == 200
    assert "Your appointment is booked" in confirmation.text
    assert "Monday, November 23, 2026" in confirmation.text
    assert "9:30\u202fPM \u2013 10:00\u202fPM" in confirmation.text
    assert "Kolkata (UTC+05:30)" in confirmation.text
    token = token_of(booked.headers["location"])
    assert f'href="/manage/{token}/calendar.ics"' in confirmation.text
    assert f"http://testserver/manage/{token}</a>" in confirmation.text


def test_a_second_booking_reuses_the_customer_by_email(client, runtime, site):
    book_through_page(client, site)
    second = book_through_page(client, site, email="Priya@Example.test", name="P. Raman")

    assert second.status_code == 303
    assert customers(runtime) == 1
    first, later = appointments(runtime)
    assert first.customers[0]["customerId"] == later.customers[0]["customerId"]
    assert later.customers[0]["name"] == "P. Raman"


def test_a_double_click_books_once(client, runtime, site):
    form_page = open_details(client, site, first_slot(client, site))
    values = fill(form_page)

    first = client.post(details_url(site), data=values, follow_redirects=False)
    again = client.post(details_url(site), data=values, follow_redirects=False)

    assert first.status_code == again.status_code == 303
    assert token_of(first.headers["location"]) == token_of(again.headers["location"])
    assert len(appointments(runtime)) == 1


def test_each_field_error_is_named_and_linked_and_nothing_is_booked(client, runtime, site):
    refused = book_through_page(
        client, site, name="", email="not-an-address", phone="12", **{"answer-0": ""}
    )

    assert refused.status_code == 400
    assert 'class="error-summary" role="alert"' in refused.text
    for field, words in (
        ("name", "Enter your name."),
        ("email", "Enter an e-mail address like name@example.com."),
        ("phone", "Enter a phone number with its country code"),
        ("answer-0", "Answer this question."),
    ):
        assert f'<a href="#{field}">{words}' in refused.text
        assert f'id="{field}-error"' in refused.text
    assert 'value="not-an-address"' in refused.text  # what was typed stays
    assert appointments(runtime) == []
    assert customers(runtime) == 0


def test_consent_is_required_when_the_business_asks_for_it(client, runtime):
    site = make_site(
        runtime,
        isCustomerConsentEnabled=True,
        customerConsentMessage="I accept the clinic's terms.",
        privacyPolicyWebUrl="https://clinic.example/privacy",
    )

    form_page = open_details(client, site, first_slot(client, site))
    assert "I accept the clinic&#39;s terms." in form_page.text
    assert 'href="https://clinic.example/privacy"' in form_page.text
    refused = client.post(details_url(site), data=fill(form_page), follow_redirects=False)
    agreed = client.post(
        details_url(site), data=fill(form_page, consent="yes"), follow_redirects=False
    )

    assert refused.status_code == 400
    assert '<a href="#consent">Agree to the terms to book.' in refused.text
    assert agreed.status_code == 303


def test_a_filled_honeypot_looks_booked_and_books_nothing(client, runtime, site, caplog):
    with caplog.at_level(logging.WARNING, logger="openvisit.web.consumer.booking"):
        trapped = book_through_page(client, site, website="https://spam.example")

    assert trapped.status_code == 200
    assert "Your appointment is booked" in trapped.text
    assert "/manage/" not in trapped.text
    assert appointments(runtime) == []
    assert customers(runtime) == 0
    assert "honeypot filled" in caplog.text


def test_a_post_without_the_csrf_cookie_is_refused(client, runtime, site):
    form_page = open_details(client, site, first_slot(client, site))
    values = fill(form_page)
    client.cookies.clear()

    refused = client.post(details_url(site), data=values, follow_redirects=False)

    assert refused.status_code == 400
    assert "This form has expired." in refused.text
    assert appointments(runtime) == []
    # The page sets a fresh cookie and token: sending it again books.
    again = client.post(details_url(site), data=fill(refused), follow_redirects=False)
    assert again.status_code == 303


def test_a_slot_taken_meanwhile_shows_fresh_times(client, runtime, site):
    start = first_slot(client, site)
    form_page = open_details(client, site, start)
    taken = datetime.fromisoformat(start)
    book_at(runtime, site, taken, ("ann",))
    book_at(runtime, site, taken, ("bob",))

    refused = client.post(details_url(site), data=fill(form_page), follow_redirects=False)

    assert refused.status_code == 409
    assert "Sorry, that time is no longer free." in refused.text
    assert "<h2>Choose a time</h2>" in refused.text
    assert start not in slots_of(refused)
    assert slots_of(refused)  # other times of that day are offered
    assert len(appointments(runtime)) == 2


def test_posts_are_rate_limited_per_client_address(client, runtime, clock, site):
    form_page = open_details(client, site, "2026-11-23T18:00:00Z")
    stale = {**fill(form_page), "csrf_token": "stale"}
    for _attempt in range(LIMIT):
        assert client.post(details_url(site), data=stale).status_code == 400

    limited = client.post(details_url(site), data=fill(form_page), follow_redirects=False)

    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 600
    assert "Too many attempts" in limited.text
    assert "Please try again in 10 minutes." in limited.text
    assert appointments(runtime) == []
    clock.advance(timedelta(minutes=10))
    again = client.post(details_url(site), data=fill(form_page), follow_redirects=False)
    assert again.status_code == 303


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_limit(app, runtime, site):
    app.state.runtime = replace(runtime, trusted_proxies=parse_networks("10.0.0.1"))
    proxy = TestClient(app, client=("10.0.0.1", 40000))
    form_page = open_details(proxy, site, first_slot(proxy, site))
    stale = {**fill(form_page), "csrf_token": "stale"}
    first = {"X-Forwarded-For": "203.0.113.5"}
    for _attempt in range(LIMIT):
        proxy.post(details_url(site), data=stale, headers=first)

    assert proxy.post(details_url(site), data=stale, headers=first).status_code == 429
    other = proxy.post(details_url(site), data=stale, headers={"X-Forwarded-For": "203.0.113.6"})
    assert other.status_code == 400  # counted apart: refused for its token only
