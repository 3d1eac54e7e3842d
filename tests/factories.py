"""Plain functions that build records through the services (never raw inserts)."""

from __future__ import annotations

import io
from typing import Any

from openvisit.bookings import businesses, documents, records
from openvisit.bookings.customers import CUSTOMERS
from openvisit.bookings.document_rows import NewFile, NewLink
from openvisit.bookings.questions import CUSTOM_QUESTIONS
from openvisit.bookings.services import SERVICES
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.runtime import Runtime
from tests.bookings import sample_files

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


def make_documents(runtime: Runtime, business_id: str, service_id: str) -> tuple[str, str]:
    """A service's two prerequisites: a PDF file (Intake form.pdf) and a link (Consent form)."""
    form = documents.add_service_file(
        runtime.db,
        runtime.clock,
        runtime.documents,
        business_id,
        service_id,
        NewFile(io.BytesIO(sample_files.pdf()), "Intake form.pdf"),
        actor="test",
    )
    link = NewLink("Consent form", "https://example.test/consent", "Sign it at home")
    consent = documents.add_service_link(
        runtime.db, runtime.clock, business_id, service_id, link, actor="test"
    )
    return form.id, consent.id
