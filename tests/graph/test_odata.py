"""OData query options over real collections: $filter, $orderby, $top, $skip, $count,
$select, and @odata.nextLink when the server cuts a page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.factories import BUSINESSES, make_business, make_customer, make_service


@pytest.fixture
def business(runtime) -> str:
    business_id = make_business(runtime)
    make_service(runtime, business_id, "Checkup", default_price=40.0, maximum_attendees_count=1)
    make_service(
        runtime,
        business_id,
        "Group session",
        default_price=0.0,
        maximum_attendees_count=5,
        is_hidden_from_customers=True,
    )
    make_service(
        runtime, business_id, "Consultation", default_price=120.0, maximum_attendees_count=1
    )
    return business_id


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["displayName"] for item in response.json()["value"]]


def _get(client, auth, business, query: str):
    return client.get(f"{BUSINESSES}/{business}/services?{query}", headers=auth)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("$filter=displayName eq 'Checkup'", ["Checkup"]),
        ("$filter=defaultPrice gt 30", ["Checkup", "Consultation"]),
        ("$filter=defaultPrice ge 40 and maximumAttendeesCount eq 1", ["Checkup", "Consultation"]),
        (
            "$filter=maximumAttendeesCount gt 1 or displayName eq 'Checkup'",
            ["Checkup", "Group session"],
        ),
        ("$filter=isHiddenFromCustomers eq true", ["Group session"]),
        ("$filter=not (isHiddenFromCustomers eq true)", ["Checkup", "Consultation"]),
        ("$filter=startswith(displayName,'con')", ["Consultation"]),
        ("$filter=contains(displayName, 'SESS')", ["Group session"]),
        ("$filter=description eq null", ["Checkup", "Consultation", "Group session"]),
        ("$filter=displayName eq 'It''s'", []),
        ("$orderby=defaultPrice desc", ["Consultation", "Checkup", "Group session"]),
        (
            "$orderby=maximumAttendeesCount desc,displayName",
            ["Group session", "Checkup", "Consultation"],
        ),
        ("$top=2", ["Checkup", "Consultation"]),
        ("$top=2&$skip=2", ["Group session"]),
        ("top=1&skip=1", ["Consultation"]),  # the $ prefix is optional, as in Graph v1.0
    ],
)
def test_filter_order_and_paging(client, auth, business, query, expected):
    assert _names(_get(client, auth, business, query)) == expected


def test_date_time_properties_filter_by_instant(client, auth, runtime, clock):
    business_id = make_business(runtime)
    make_customer(runtime, business_id, "Early")
    clock.advance(timedelta(hours=2))
    make_customer(runtime, business_id, "Late")
    url = f"{BUSINESSES}/{business_id}/customers"

    late = client.get(f"{url}?$filter=createdDateTime ge 2026-11-23T15:00:00Z", headers=auth)
    early = client.get(
        f"{url}?$filter=createdDateTime lt 2026-11-23T16:00:00%2B01:00", headers=auth
    )
    naive = client.get(f"{url}?$filter=createdDateTime lt 2026-11-23T16:00:00", headers=auth)

    assert _names(late) == ["Late"]
    assert _names(early) == ["Early"]
    assert naive.status_code == 400


def test_count_reports_the_filtered_total_not_the_page(client, auth, business):
    response = _get(client, auth, business, "$count=true&$top=1&$filter=defaultPrice gt 0")

    assert response.json()["@odata.count"] == 2
    assert len(response.json()["value"]) == 1


def test_count_segment_answers_plain_text(client, auth, business):
    everything = client.get(f"{BUSINESSES}/{business}/services/$count", headers=auth)
    filtered = client.get(
        f"{BUSINESSES}/{business}/services/$count?$filter=defaultPrice gt 30", headers=auth
    )

    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("text/plain")
    assert (everything.text, filtered.text) == ("3", "2")


def test_select_returns_only_the_chosen_properties(client, auth, business):
    response = _get(client, auth, business, "$select=displayName,defaultDuration")

    for item in response.json()["value"]:
        assert set(item) == {"id", "displayName", "defaultDuration"}


def test_unknown_query_options_are_ignored(client, auth, business):
    response = _get(client, auth, business, "$expand=foo&whatever=1")

    assert len(_names(response)) == 3


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("$filter=displayName eq", "ends too early"),
        ("$filter=displayName like 'x'", "'like'"),
        ("$filter=notes eq 'x'", "'notes' cannot be used"),
        ("$filter=defaultPrice eq 'cheap'", "defaultPrice"),
        ("$orderby=displayName sideways", "$orderby"),
        ("$top=-1", "$top"),
        ("$top=abc", "$top"),
        ("$skip=1.5", "$skip"),
        ("$count=maybe", "$count"),
    ],
)
def test_bad_query_options_are_400_with_a_clear_message(client, auth, business, query, fragment):
    response = _get(client, auth, business, query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "badRequest"
    assert fragment in response.json()["error"]["message"]


def test_next_link_walks_every_page(client, auth, runtime):
    business = make_business(runtime)
    for number in range(7):
        make_customer(runtime, business, f"Customer {number:02d}")
    client.app.state.runtime = replace(runtime, page_size=3)

    seen: list[str] = []
    url: str | None = f"{BUSINESSES}/{business}/customers?$count=true"
    pages = 0
    while url:
        body = client.get(url, headers=auth).json()
        assert body.get("@odata.count", 7) == 7
        seen += [item["displayName"] for item in body["value"]]
        url = body.get("@odata.nextLink")
        pages += 1

    assert pages == 3
    assert seen == [f"Customer {number:02d}" for number in range(7)]


def test_top_larger_than_a_page_is_served_across_pages(client, auth, runtime):
    business = make_business(runtime)
    for number in range(5):
        make_customer(runtime, business, f"Customer {number}")
    client.app.state.runtime = replace(runtime, page_size=2)

    first = client.get(f"{BUSINESSES}/{business}/customers?$top=3", headers=auth).json()
    second = client.get(first["@odata.nextLink"], headers=auth).json()

    assert len(first["value"]) == 2
    assert len(second["value"]) == 1
    assert "@odata.nextLink" not in second


def test_business_query_parameter_matches_names(client, auth, runtime):
    make_business(runtime, "Contoso Health")
    make_business(runtime, "Fabrikam Dental")

    response = client.get(f"{BUSINESSES}?query=dental", headers=auth)

    assert [item["displayName"] for item in response.json()["value"]] == ["Fabrikam Dental"]
    assert client.get(f"{BUSINESSES}/$count", headers=auth).text == "2"
    assert set(response.json()["value"][0]) == {"id", "displayName"}


def test_fractions_against_whole_number_properties_are_refused(client, auth, business):
    response = _get(client, auth, business, "$filter=maximumAttendeesCount eq 1.5")

    assert response.status_code == 400
    assert "whole numbers" in response.json()["error"]["message"]
    assert _names(_get(client, auth, business, "$filter=maximumAttendeesCount eq 5.0")) == [
        "Group session"
    ]
