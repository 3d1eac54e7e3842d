"""Plain functions that build records through the services (never raw inserts)."""

from __future__ import annotations

from typing import Any

from openvisit.bookings import businesses, records
from openvisit.bookings.customers import CUSTOMERS
from openvisit.bookings.questions import CUSTOM_QUESTIONS
from openvisit.bookings.services import SERVICES
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.runtime import Runtime

BUSINESSES = "/v1.0/solutions/bookingBusinesses"


def make_business(runtime: Runtime, name: str = "Contoso Health", **changes: Any) -> str:
    values = {"display_name": name, "default_currency_iso": "USD", "business_hours": [], **changes}
    business = businesses.create_business(
        runtime.db, runtime.clock, values, id_domain=runtime.business_id_domain, actor="test"
    )
    return business.id


def make_staff(runtime: Runtime, business_id: str, name: str = "Dr. Osei", **changes: Any) -> str:
    values = {
        "display_name": name,
        "role": "administrator",
        "email_address": f"{name.rsplit(maxsplit=1)[-1].lower()}@example.test",
        **changes,
    }
    return records.create_record(
        runtime.db, runtime.clock, STAFF_MEMBERS, business_id, values, actor="test"
    ).id


def make_service(runtime: Runtime, business_id: str, name: str = "Visit", **changes: Any) -> str:
    values = {"display_name": name, "default_duration_seconds": 1800, **changes}
    return records.create_record(
        runtime.db, runtime.clock, SERVICES, business_id, values, actor="test"
    ).id


def make_customer(
    runtime: Runtime, business_id: str, name: str = "Jordan Lee", **changes: Any
) -> str:
    values = {"display_name": name, **changes}
    return records.create_record(
        runtime.db, runtime.clock, CUSTOMERS, business_id, values, actor="test"
    ).id


def make_question(runtime: Runtime, business_id: str, name: str = "Why?", **changes: Any) -> str:
    values = {"display_name": name, "answer_input_type": "text", **changes}
    return records.create_record(
        runtime.db, runtime.clock, CUSTOM_QUESTIONS, business_id, values, actor="test"
    ).id
