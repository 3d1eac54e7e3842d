"""Customers of a business (people who book)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from openvisit.audit import actions
from openvisit.bookings.records import ResourceKind, create_record
from openvisit.bookings.views import CustomerView
from openvisit.clock import Clock
from openvisit.store.db import Database
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


def customer_for_booking(
    db: Database,
    clock: Clock,
    business_id: str,
    *,
    name: str,
    email: str,
    phone: str | None,
    actor: str,
) -> str:
    """The id of the business's customer with this e-mail, created if there is none.

    A found customer is reused as it stands: whoever types an address on a public page
    must not rename someone else's record (the appointment keeps the name typed). Two
    first bookings with one address at the same moment may both create one; either is a
    whole, valid customer.
    """
    with db.read() as session:
        found = session.scalar(
            select(Customer.id)
            .where(
                Customer.business_id == business_id,
                func.lower(Customer.email_address) == email.lower(),
            )
            .order_by(Customer.created_date_time, Customer.id)
            .limit(1)
        )
    if found is not None:
        return found
    values: dict[str, Any] = {
        "display_name": name,
        "email_address": email,
        "phones": [{"number": phone, "type": "mobile"}] if phone else [],
    }
    return create_record(db, clock, CUSTOMERS, business_id, values, actor=actor).id
