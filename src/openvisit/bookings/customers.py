"""Customers of a business (people who book)."""

from __future__ import annotations

from openvisit.bookings.records import ResourceKind
from openvisit.bookings.views import CustomerView
from openvisit.store.models import Customer

CUSTOMERS = ResourceKind(
    model=Customer,
    view=CustomerView,
    label="customer",
    action_prefix="openvisit.customer",
    columns={
        "id": Customer.id,
        "displayName": Customer.display_name,
        "emailAddress": Customer.email_address,
        "createdDateTime": Customer.created_date_time,
        "lastUpdatedDateTime": Customer.last_updated_date_time,
    },
)
