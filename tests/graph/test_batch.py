"""JSON batching (`POST /v1.0/$batch`, `/beta/$batch`) as Graph documents it.

A well-formed batch answers 200 and each request its own status, headers and body, as if
it had been sent alone: the same token and scope checks, validation, guards and error
envelope. A malformed batch answers 400 and runs nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openvisit.graph.admission import AdmissionLimiter
from tests.factories import BUSINESSES, make_business

JSON = {"Content-Type": "application/json"}
Headers = dict[str, str]


def batch(client: TestClient, auth: Headers, *requests: dict[str, Any], version: str = "v1.0"):
    return client.post(f"/{version}/$batch", headers=auth, json={"requests": list(requests)})


def by_id(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["responses"]}


def get(request_id: str, url: str) -> dict[str, Any]:
    return {"id": request_id, "method": "GET", "url": url}


def create_customer(request_id: str, business: str, name: str, **extra: Any) -> dict[str, Any]:
    body = {"displayName": name, "emailAddress": f"{name.lower()}@example.com"}
    return {
        "id": request_id,
        "method": "POST",
        "url": f"/solutions/bookingBusinesses/{business}/customers",
        "headers": JSON,
        "body": body,
        **extra,
    }


def customer_names(client: TestClient, auth: Headers, business: str) -> list[str]:
    listed = client.get(f"{BUSINESSES}/{business}/customers", headers=auth)
    return sorted(customer["displayName"] for customer in listed.json()["value"])


def test_each_request_gets_its_own_status_headers_and_body(client, auth, runtime):
    business = make_business(runtime)

    answer = batch(
        client,
        auth,
        get("get", f"/solutions/bookingBusinesses/{business}"),
        create_customer("create", business, "Ann"),
        get("missing", f"/solutions/bookingBusinesses/{business}/x"),
        # Graph's docs write urls with and without the leading slash.
        get("list", "solutions/bookingCurrencies?$top=2"),
    )

    assert answer.headers["content-type"] == "application/json"
    assert [item["id"] for item in answer.json()["responses"]] == [
        "get",
        "create",
        "missing",
        "list",
    ]
    items = by_id(answer)
    assert items["get"]["status"] == 200
    assert items["get"]["body"]["displayName"] == "Contoso Health"
    assert items["get"]["headers"]["Content-Type"] == "application/json"
    assert items["create"]["status"] == 201
    assert items["create"]["body"]["emailAddress"] == "ann@example.com"
    assert items["missing"]["status"] == 404
    assert items["missing"]["body"]["error"]["code"] == "itemNotFound"
    assert len(items["list"]["body"]["value"]) == 2
    # Every request is a request of its own: its own id, apart from the batch's.
    request_ids = {item["headers"]["request-id"] for item in items.values()}
    assert len(request_ids) == 4
    assert answer.headers["request-id"] not in request_ids
    assert customer_names(client, auth, business) == ["Ann"]


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_a_request_can_read_what_the_one_it_depends_on_created(client, auth, version):
    answer = batch(
        client,
        auth,
        {
            "id": "1",
            "method": "POST",
            "url": "/solutions/bookingBusinesses",
            "headers": JSON,
            "body": {"displayName": "Contoso Dental"},
        },
        {
            "id": "2",
            "method": "GET",
            "url": "/solutions/bookingBusinesses/contosodental@openvisit.test",
            "dependsOn": ["1"],
        },
        version=version,
    )

    items = by_id(answer)
    assert items["1"]["status"] == 201
    assert items["2"]["status"] == 200
    assert items["2"]["body"]["displayName"] == "Contoso Dental"
    # Inner requests are served under the batch's version.
    assert f"/{version}/$metadata" in items["2"]["body"]["@odata.context"]


def test_a_request_whose_dependency_failed_is_not_run_and_answers_424(client, auth, runtime):
    business = make_business(runtime)
    broken = create_customer("1", business, "Ann")
    broken["body"] = {"displayName": "Ann", "emailAddress": "not an address"}

    answer = batch(
        client,
        auth,
        broken,
        create_customer("2", business, "Bea", dependsOn=["1"]),
        create_customer("3", business, "Cy", dependsOn=["2"]),
        create_customer("4", business, "Dee"),
    )

    items = by_id(answer)
    assert items["1"]["status"] == 400
    assert items["2"]["status"] == 424
    assert items["2"]["body"]["error"]["code"] == "failedDependency"
    assert "'1'" in items["2"]["body"]["error"]["message"]
    assert items["3"]["status"] == 424  # a failure carries down the chain
    assert items["4"]["status"] == 201  # what depends on nothing still runs
    assert customer_names(client, auth, business) == ["Dee"]


def test_twenty_requests_run_and_twenty_one_are_refused_whole(client, auth, runtime):
    business = make_business(runtime)
    twenty = [create_customer(str(n), business, f"C{n:02}") for n in range(20)]

    allowed = batch(client, auth, *twenty)
    refused = batch(client, auth, *twenty, create_customer("20", business, "C20"))

    assert [item["status"] for item in by_id(allowed).values()] == [201] * 20
    assert refused.status_code == 400
    assert "1 to 20 requests" in refused.json()["error"]["message"]
    assert len(customer_names(client, auth, business)) == 20  # none of the 21 ran


CURRENCY = {"method": "GET", "url": "/solutions/bookingCurrencies/USD"}


@pytest.mark.parametrize(
    ("requests", "reason"),
    [
        ([], "1 to 20 requests"),
        ([{"id": "a", **CURRENCY}, {"id": "A", **CURRENCY}], "used by more than one request"),
        ([{"id": "1", **CURRENCY, "dependsOn": ["9"]}], "not an earlier request"),
        (
            [{"id": "1", **CURRENCY, "dependsOn": ["2"]}, {"id": "2", **CURRENCY}],
            "not an earlier request",
        ),
        ([{"id": "1", **CURRENCY, "dependsOn": ["1"]}], "not an earlier request"),
        ([{"id": "1", "method": "POST", "url": "/x", "body": {}}], "no Content-Type"),
        ([{"id": "1", "method": "POST", "url": "/x", "headers": JSON, "body": [1]}], "object"),
        ([get("1", "https://graph.microsoft.com/v1.0/me")], "relative"),
        ([{"id": "1", "method": "TRACE", "url": "/me"}], "must be one of"),
        ([{"id": "1", "method": "GET"}], "'requests.1.url' is required"),
        ([{"id": "1", **CURRENCY, "headers": {"Bad Name": "x"}}], "not a valid HTTP header"),
    ],
)
def test_a_malformed_batch_is_refused_with_400_and_runs_nothing(
    client, auth, runtime, requests, reason
):
    business = make_business(runtime)
    first = create_customer("first", business, "Ann")

    answer = batch(client, auth, first, *requests) if requests else batch(client, auth)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "badRequest"
    assert reason in answer.json()["error"]["message"]
    assert customer_names(client, auth, business) == []


def test_each_request_is_authorized_on_its_own_with_the_batchs_token(client, make_token, runtime):
    business = make_business(runtime)
    reader = {"Authorization": f"Bearer {make_token('Bookings.Read.All')}"}
    sneaky = create_customer("write", business, "Ann")
    # The batch's token authorizes every request; one written inside is not looked at.
    sneaky["headers"] = {**JSON, "Authorization": f"Bearer {make_token()}"}

    answer = batch(
        client,
        reader,
        get("read", f"/solutions/bookingBusinesses/{business}"),
        sneaky,
    )
    anonymous = batch(client, {}, {"id": "read", **CURRENCY})

    items = by_id(answer)
    assert items["read"]["status"] == 200
    assert items["write"]["status"] == 403
    assert items["write"]["body"]["error"]["code"] == "accessDenied"
    assert anonymous.status_code == 401
    assert customer_names(client, reader, business) == []


def test_batches_do_not_nest(client, auth):
    inner = {"requests": [{"id": "1", **CURRENCY}]}

    answer = batch(
        client,
        auth,
        {"id": "1", "method": "POST", "url": "/$batch", "headers": JSON, "body": inner},
        {"id": "2", "method": "POST", "url": "/%24BATCH", "headers": JSON, "body": inner},
    )

    for item in by_id(answer).values():
        assert item["status"] == 400
        assert "cannot contain another $batch" in item["body"]["error"]["message"]


def test_inner_requests_meet_the_same_guards_as_direct_ones(client, auth, runtime):
    business = make_business(runtime)

    answer = batch(
        client,
        auth,
        # The path is matched as Graph matches it: any case, trailing slash, no /solutions.
        get("path", f"/BOOKINGBUSINESSES/{business}/"),
        get("nul", "/solutions/bookingBusinesses?$filter=%00"),
        get("filter", "/solutions/bookingBusinesses?$top=x"),
        {
            "id": "correlated",
            "method": "GET",
            "url": "/solutions/bookingCurrencies/EUR",
            "headers": {"client-request-id": "mine-42"},
        },
    )

    items = by_id(answer)
    assert items["path"]["status"] == 200
    assert items["nul"]["status"] == 400
    assert "NUL" in items["nul"]["body"]["error"]["message"]
    assert items["filter"]["status"] == 400
    assert items["correlated"]["headers"]["client-request-id"] == "mine-42"


def test_booking_writes_in_a_batch_pass_admission_control(
    app: FastAPI, client: TestClient, auth: Headers, runtime
):
    business = make_business(runtime)
    limiter: AdmissionLimiter = app.state.admission
    queue, limiter.queue = limiter.queue, 0
    held = 0
    while limiter.try_acquire():
        held += 1
    try:
        answer = batch(
            client,
            auth,
            {
                "id": "book",
                "method": "POST",
                "url": f"/solutions/bookingBusinesses/{business}/appointments",
                "headers": JSON,
                "body": {},
            },
        )
    finally:
        for _ in range(held):
            limiter.release()
        limiter.queue = queue

    item = by_id(answer)["book"]
    assert item["status"] == 503
    assert item["headers"]["Retry-After"] == "1"
    assert limiter.active == 0


def test_a_batch_larger_than_the_body_cap_is_refused(client, auth, runtime):
    business = make_business(runtime)
    huge = create_customer("1", business, "Ann")
    huge["body"]["notes"] = "x" * 1_100_000

    answer = batch(client, auth, huge)

    assert answer.status_code == 413
    assert customer_names(client, auth, business) == []


def test_the_client_request_id_of_the_batch_reaches_its_requests(client, auth):
    answer = client.post(
        "/v1.0/$batch",
        headers={**auth, "client-request-id": "batch-7"},
        json={"requests": [{"id": "1", **CURRENCY}]},
    )

    assert by_id(answer)["1"]["headers"]["client-request-id"] == "batch-7"
