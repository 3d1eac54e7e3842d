"""The consumer pages' language choice, German texts and dates, and the business's brand
under the pages' Content-Security-Policy."""

from __future__ import annotations

import re

import pytest

from openvisit.bookings import businesses
from openvisit.web.consumer import brand
from tests.web.consumer.site import book_through_page, make_site, token_of


@pytest.fixture
def site(runtime):
    return make_site(runtime, bookingPageColorCode="#ffd400")


def test_the_browser_language_picks_german(client, site):
    page = client.get(
        f"/book/{site['business']}/services/{site['visit']}",
        params={"tz": "Europe/Berlin"},
        headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"},
    )

    assert '<html lang="de">' in page.text
    assert "<h2>Uhrzeit wählen</h2>" in page.text
    assert "<legend>Freie Zeiten am Montag, 23. November 2026" in page.text
    assert "Berlin (UTC+01:00)" in page.text
    assert ">17:00</span>" in page.text  # 11:00 in New York
    assert 'aria-current="true">Deutsch</a>' in page.text


def test_the_switcher_overrides_the_browser_and_is_remembered(client, site):
    german = {"Accept-Language": "de"}
    switched = client.get(f"/book/{site['business']}/?lang=en", headers=german)
    later = client.get(f"/book/{site['business']}/", headers=german)

    assert '<html lang="en">' in switched.text
    assert switched.cookies.get("openvisit_lang") == "en"
    assert "<h1>Book an appointment</h1>" in later.text
    assert 'href="/book/' in later.text
    assert f'href="/book/{site["business"]}/?lang=de" lang="de" hreflang="de"' in later.text


def test_the_business_language_is_the_default(client, runtime, site):
    businesses.update_business(
        runtime.db, runtime.clock, site["business"], {"language_tag": "de-DE"}, actor="test"
    )

    page = client.get(f"/book/{site['business']}/", headers={"Accept-Language": "fr"})

    assert '<html lang="de">' in page.text
    assert "<h1>Termin buchen</h1>" in page.text


def test_a_german_booking_is_confirmed_in_german_and_keeps_its_language(client, runtime, site):
    client.cookies.set("openvisit_lang", "de")
    booked = book_through_page(client, site, tz="Europe/Berlin")
    client.cookies.delete("openvisit_lang")

    confirmation = client.get(booked.headers["location"], headers={"Accept-Language": "en"})

    assert "Ihr Termin ist gebucht" in confirmation.text  # the booked language wins
    assert "Montag, 23. November 2026" in confirmation.text
    assert "17:00\u201317:30" in confirmation.text.replace(" \u2013 ", "\u2013")
    manage = client.get(f"/manage/{token_of(booked.headers['location'])}?lang=en")
    assert "Your appointment" in manage.text


def test_german_field_errors(client, site):
    client.cookies.set("openvisit_lang", "de")

    refused = book_through_page(client, site, name="", email="")

    assert refused.status_code == 400
    assert "Bitte geben Sie Ihren Namen ein." in refused.text
    assert "Bitte geben Sie Ihre E-Mail-Adresse ein." in refused.text


def test_the_brand_colour_is_a_stylesheet_with_readable_text(client, site):
    page = client.get(f"/book/{site['business']}/")
    sheet = client.get(f"/book/{site['business']}/brand.css")

    assert f'<link rel="stylesheet" href="/book/{site["business"]}/brand.css">' in page.text
    assert sheet.headers["content-type"].startswith("text/css")
    assert "--brand: #ffd400;" in sheet.text
    assert "--brand-ink: #000000;" in sheet.text  # black reads on yellow, white does not
    text = re.search(r"--brand-text: #([0-9a-f]{6});", sheet.text)
    assert text, sheet.text
    color = tuple(int(text.group(1)[i : i + 2], 16) for i in (0, 2, 4))
    assert brand.contrast(color, brand.PAPER) >= 4.5  # type: ignore[arg-type]


def test_an_unknown_business_gets_the_default_colours(client):
    sheet = client.get("/book/nobody@openvisit.test/brand.css")

    assert sheet.status_code == 200
    assert "--brand" not in sheet.text


@pytest.mark.parametrize(
    "color", [(255, 255, 255), (0, 0, 0), (118, 118, 118), (36, 87, 197), (255, 212, 0)]
)
def test_any_colour_gets_a_readable_ink_and_text_shade(color):
    css = brand.stylesheet(color)
    ink = (255, 255, 255) if "--brand-ink: #ffffff" in css else (0, 0, 0)

    assert brand.contrast(color, ink) >= 4.5
    assert brand.contrast(brand.readable_on(color, brand.PAPER), brand.PAPER) >= 4.5


def test_a_colour_that_is_not_hex_is_ignored():
    assert brand.brand_color({"bookingPageColorCode": "red;} body{display:none"}) is None
    assert brand.brand_color({"bookingPageColorCode": "#12345g"}) is None
    assert brand.brand_color({"bookingPageColorCode": "#2457C5"}) == (36, 87, 197)


def test_consumer_pages_carry_the_policy_and_no_inline_script_or_style(client, site):
    booked = book_through_page(client, site)
    token = token_of(booked.headers["location"])
    paths = [
        f"/book/{site['business']}/",
        f"/book/{site['business']}/services/{site['visit']}",
        f"/manage/{token}/booked",
        f"/manage/{token}",
        f"/manage/{token}/reschedule",
        f"/manage/{token}/cancel",
        "/manage/not-a-token",
    ]
    for path in paths:
        page = client.get(path)
        assert page.headers["content-security-policy"].startswith("default-src 'self'"), path
        assert page.headers["cache-control"] == "no-store", path
        assert " style=" not in page.text, path
        assert re.findall(r"<script[^>]*>", page.text) == [
            '<script src="/static/consumer/zone.js" defer>'
        ], path
