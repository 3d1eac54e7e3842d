"""msgraph-sdk's JSON batching (`BatchRequestContent`, `client.batch`) against OpenVisit.

The batch is built from the SDK's own request builders, sent with its BatchRequestBuilder
and read back with BatchResponseContent, as an integrator batching Bookings calls would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_http.middleware.options import ResponseHandlerOption
from msgraph.generated.models.booking_customer import BookingCustomer
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem
from msgraph_core.requests.batch_response_content import BatchResponseContent

from tests.factories import make_business
from tests.graph.sdk_client import run_with_client
from tests.live import serve

pytestmark = pytest.mark.live


@pytest.fixture
def base_url(app) -> Iterator[str]:
    with serve(app) as url:
        yield url


def customer(name: str, email: str) -> BookingCustomer:
    return BookingCustomer(display_name=name, email_address=email)


def batch_of(client: GraphServiceClient, business_id: str) -> BatchRequestContent:
    """Read the business, create a customer and list customers after it; a create the
    server refuses, and a list that depends on it."""
    business = client.solutions.booking_businesses.by_booking_business_id(business_id)
    customers = business.customers
    content = BatchRequestContent()
    for item in (
        BatchRequestItem(business.to_get_request_information(), id="business"),
        BatchRequestItem(
            customers.to_post_request_information(customer("Ann Lee", "ann@example.com")),
            id="create",
        ),
        BatchRequestItem(customers.to_get_request_information(), id="list", depends_on=["create"]),
        BatchRequestItem(
            customers.to_post_request_information(customer("Bad", "not an address")), id="refused"
        ),
        BatchRequestItem(
            customers.to_get_request_information(), id="after", depends_on=["refused"]
        ),
    ):
        content.add_request(item.id, item)
    return content


def test_the_sdk_sends_a_batch_and_reads_each_response(base_url, make_token, runtime):
    business_id = make_business(runtime)
    other_business_id = make_business(runtime, "Fabrikam Care")

    async def scenario(client: GraphServiceClient) -> tuple[Any, ...]:
        answer = await client.batch.post(batch_of(client, business_id))
        assert isinstance(answer, BatchResponseContent)
        # The same batch for another business, read as raw JSON (see bodies below).
        content = batch_of(client, other_business_id)
        request = await client.batch.to_post_request_information(content)
        request.add_request_options([ResponseHandlerOption(NativeResponseHandler())])
        raw = await client.request_adapter.send_async(request, BatchResponseContent, {})
        assert raw is not None
        return answer, raw.json()

    answer, raw = run_with_client(base_url, make_token(), scenario)

    assert answer.get_response_status_codes() == {
        "business": 200,
        "create": 201,
        "list": 200,
        "refused": 400,
        "after": 424,
    }
    created = answer.get_response_by_id("create")
    assert created.content_type == "application/json"
    assert created.headers["request-id"]
    # msgraph-core 1.5 reads a response body only when it is a base64 string, and Graph
    # (and OpenVisit) send JSON bodies as JSON (kiota-python#737), so its
    # get_response_by_id(id, Type) finds no body; the bodies are read from the raw answer.
    bodies = {item["id"]: item.get("body") for item in raw["responses"]}
    assert bodies["business"]["displayName"] == "Fabrikam Care"
    assert [person["displayName"] for person in bodies["list"]["value"]] == ["Ann Lee"]
    assert bodies["refused"]["error"]["code"] == "badRequest"
    assert bodies["after"]["error"]["code"] == "failedDependency"
