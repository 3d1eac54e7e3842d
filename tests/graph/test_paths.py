"""Paths as Graph clients send them: percent-encoded ids, mixed case, beta aliases, ()."""

from __future__ import annotations

import pytest

from openvisit.graph.paths import normalize_path
from tests.factories import make_business, make_service


@pytest.mark.parametrize(
    "path",
    [
        "/v1.0/solutions/bookingBusinesses/{b}",
        "/v1.0/solutions/bookingbusinesses/{b}",
        "/V1.0/Solutions/BookingBusinesses/{b}",
        "/beta/solutions/bookingBusinesses/{b}",
        "/beta/bookingBusinesses/{b}",
        "/beta/bookingbusinesses/{b}",
    ],
)
def test_business_is_found_however_the_path_is_written(client, auth, runtime, path):
    business = make_business(runtime)
    encoded = business.replace("@", "%40")

    response = client.get(path.format(b=encoded), headers=auth)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == business


def test_child_ids_may_be_percent_encoded_and_segments_any_case(client, auth, runtime):
    business = make_business(runtime)
    service = make_service(runtime, business)

    response = client.get(
        f"/v1.0/solutions/bookingBusinesses/{business.replace('@', '%40')}/SERVICES/{service}",
        headers=auth,
    )

    assert response.json()["id"] == service


def test_publish_may_be_called_with_parentheses(client, auth, runtime):
    business = make_business(runtime)

    response = client.post(f"/v1.0/solutions/bookingBusinesses/{business}/publish()", headers=auth)

    assert response.status_code == 204


def test_ids_are_never_rewritten():
    # A record whose id happens to be a collection name keeps its spelling.
    assert normalize_path("/v1.0/solutions/bookingBusinesses/Services/SERVICES/Publish") == (
        "/v1.0/solutions/bookingBusinesses/Services/services/Publish"
    )


def test_unknown_paths_answer_in_the_error_envelope(client, auth):
    response = client.get(
        "/v1.0/solutions/nothingHere", headers={**auth, "client-request-id": "abc-123"}
    )

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "itemNotFound"
    assert error["innerError"]["client-request-id"] == "abc-123"


def test_a_trailing_slash_is_served_not_redirected(client, auth, runtime):
    business = make_business(runtime)
    base = f"/v1.0/solutions/bookingBusinesses/{business}"

    got = client.get(f"{base}/", headers=auth, follow_redirects=False)
    created = client.post(
        f"{base}/customers/",
        headers=auth,
        json={
            "@odata.type": "#microsoft.graph.bookingCustomer",
            "displayName": "Ada",
            "emailAddress": "ada@example.com",
        },
        follow_redirects=False,
    )
    listed = client.get("/beta/bookingBusinesses/", headers=auth, follow_redirects=False)

    assert got.status_code == 200, got.text
    assert created.status_code == 201, created.text
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["value"]] == [business]
