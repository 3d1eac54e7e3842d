"""/bookingBusinesses/{id}/customers: bookingCustomer."""

from typing import Annotated, Any

from fastapi import Request
from pydantic import Field

from openvisit.auth import access
from openvisit.bookings.customers import CUSTOMERS
from openvisit.bookings.views import CustomerView
from openvisit.graph.changes import body_changes, require
from openvisit.graph.children import ChildApi, child_router
from openvisit.graph.responses import api_version, nested, timestamp
from openvisit.graph.schemas.complex import Phone, PhysicalAddress
from openvisit.graph.schemas.types import EmailAddress, GraphModel, Name


class BookingCustomerBody(GraphModel):
    display_name: Name | None = Field(default=None, description="Required on create.")
    email_address: EmailAddress | None = None
    phones: Annotated[list[Phone], Field(max_length=20)] | None = None
    addresses: Annotated[list[PhysicalAddress], Field(max_length=20)] | None = None


class BookingCustomerOut(BookingCustomerBody):
    id: str
    created_date_time: str | None = None
    last_updated_date_time: str | None = None


class BookingCustomerCollection(GraphModel):
    value: list[BookingCustomerOut]


NOT_NULL = frozenset({"display_name", "phones", "addresses"})


def customer_json(customer: CustomerView, request: Request) -> dict[str, Any]:
    version = api_version(request)
    return {
        "id": customer.id,
        "displayName": customer.display_name,
        "emailAddress": customer.email_address,
        "phones": nested(Phone, customer.phones, version),
        "addresses": nested(PhysicalAddress, customer.addresses, version),
        "createdDateTime": timestamp(customer.created_date_time),
        "lastUpdatedDateTime": timestamp(customer.last_updated_date_time),
    }


def customer_changes(body: BookingCustomerBody, creating: bool) -> dict[str, Any]:
    if creating:
        require(body, "display_name")
    return body_changes(body, not_null=NOT_NULL)


CUSTOMER_API = ChildApi(
    kind=CUSTOMERS,
    segment="customers",
    tag="bookingCustomer",
    odata_type="#microsoft.graph.bookingCustomer",
    body_model=BookingCustomerBody,
    out_model=BookingCustomerOut,
    collection_model=BookingCustomerCollection,
    to_json=customer_json,
    to_changes=customer_changes,
    read_operation=access.CUSTOMER_READ,
    write_operation=access.CUSTOMER_WRITE,
    update_returns_body=True,
)
router = child_router(CUSTOMER_API)
