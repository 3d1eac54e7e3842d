"""Customers of a business (people who book)."""

from __future__ import annotations

from openvisit.audit import actions
from openvisit.bookings.records import ResourceKind
from openvisit.bookings.views import CustomerView
from openvisit.store.models import Customer

CUSTOMERS = ResourceKind(
    model=Customer,
    view=CustomerView,
    label="customer",
    actions=actions.CUSTOMER,
    columns={
        "id": Customer.id,
        "displayName": Customer.display_name,
        "emailAddress": Customer.email_address,
        "createdDateTime": Customer.created_date_time,
        "lastUpdatedDateTime": Customer.last_updated_date_time,
    },
)
