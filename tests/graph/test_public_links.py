"""Links the API hands out name the public base URL in force when they are read.

Behind a TLS proxy the request reaches the server as plain HTTP on a loopback port; the
links must still be what clients use (OPENVISIT_BASE_URL), and a business published
before the server moved must not keep its old address.
"""

from __future__ import annotations

from dataclasses import replace

from tests.factories import BUSINESSES, make_business, make_customer, make_service

PUBLIC = "https://visits.example.org"


def test_public_url_follows_the_base_url_after_publishing(client, auth, runtime):
    business = make_business(runtime)
    assert client.post(f"{BUSINESSES}/{business}/publish", headers=auth).status_code == 204

    client.app.state.runtime = replace(runtime, base_url=PUBLIC)
    read = client.get(f"{BUSINESSES}/{business}", headers=auth).json()
    listed = client.get(f"{BUSINESSES}?$select=publicUrl", headers=auth).json()["value"]

    assert read["publicUrl"] == f"{PUBLIC}/book/{business}/"
    assert [item["publicUrl"] for item in listed] == [f"{PUBLIC}/book/{business}/"]


def test_next_link_and_context_use_the_base_url_not_the_request_host(client, auth, runtime):
    business = make_business(runtime)
    for number in range(3):
        make_customer(runtime, business, f"Customer {number}")
    client.app.state.runtime = replace(runtime, base_url=PUBLIC, page_size=2)

    body = client.get(f"{BUSINESSES}/{business}/customers?$count=true", headers=auth).json()

    assert body["@odata.nextLink"] == (
        f"{PUBLIC}{BUSINESSES}/{business}/customers?%24count=true&%24skip=2"
    )
    assert body["@odata.context"].startswith(f"{PUBLIC}/v1.0/$metadata#")


def test_service_web_url_follows_the_base_url(client, auth, runtime):
    business = make_business(runtime)
    service = make_service(runtime, business)

    client.app.state.runtime = replace(runtime, base_url=PUBLIC)
    read = client.get(f"{BUSINESSES}/{business}/services/{service}", headers=auth).json()

    assert read["webUrl"] == f"{PUBLIC}/book/{business}/services/{service}"
