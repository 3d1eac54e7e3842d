"""Seed a demo business through the same services the API uses."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from openvisit.auth import scopes
from openvisit.auth.tokens import create_token
from openvisit.bookings import businesses, records
from openvisit.bookings.customers import CUSTOMERS
from openvisit.bookings.questions import CUSTOM_QUESTIONS
from openvisit.bookings.services import SERVICES
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.clock import Clock
from openvisit.errors import NotFound
from openvisit.listing import ListQuery
from openvisit.meetings.staff_users import create_user
from openvisit.store.db import Database

DEMO_TIME_ZONE = "America/New_York"
ACTOR = "demo"
ALL_SCOPES = " ".join(sorted(scopes.KNOWN_SCOPES))
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


@dataclass(frozen=True)
class DemoResult:
    business_id: str
    admin_email: str
    admin_password: str
    admin_token: str


def _hours(days: tuple[str, ...], start: str, end: str) -> list[dict[str, Any]]:
    slot = {"startTime": f"{start}:00.0000000", "endTime": f"{end}:00.0000000"}
    week = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
    return [{"day": day, "timeSlots": [slot] if day in days else []} for day in week]


def demo_admin_email(id_domain: str) -> str:
    return f"admin@{id_domain.lower()}"


def demo_exists(db: Database, id_domain: str) -> bool:
    """True when the demo business was seeded before (its id is derived from its name)."""
    try:
        businesses.get_business(db, f"contosohealth@{id_domain}")
    except NotFound:
        return False
    return True


def new_admin_token(db: Database, clock: Clock, id_domain: str) -> str:
    """A fresh all-scopes token for the demo administrator (when the demo is re-run)."""
    _info, token = create_token(
        db,
        clock,
        name="demo admin",
        scopes=ALL_SCOPES,
        user_email=demo_admin_email(id_domain),
        actor=ACTOR,
    )
    return token


def is_empty(db: Database) -> bool:
    page = businesses.list_businesses(db, ListQuery(top=1), page_size=1)
    return not page.items


def seed_demo(db: Database, clock: Clock, *, id_domain: str) -> DemoResult:
    """Create and publish Contoso Health with staff, services, a question, customers and an
    administrator who can sign in and holds an all-scopes API token."""
    business = businesses.create_business(
        db,
        clock,
        {
            "display_name": "Contoso Health",
            "business_type": "Clinic",
            "email": "frontdesk@contosohealth.example",
            "phone": "+1 212 555 0100",
            "web_site_url": "https://contosohealth.example",
            "default_currency_iso": "USD",
            "language_tag": "en-US",
            "address": {
                "street": "100 Main Street",
                "city": "New York",
                "state": "NY",
                "countryOrRegion": "USA",
                "postalCode": "10001",
            },
            "business_hours": _hours(WEEKDAYS, "08:00", "18:00"),
            "scheduling_policy": {
                "timeSlotInterval": "PT15M",
                "minimumLeadTime": "PT2H",
                "maximumAdvance": "P60D",
                "sendConfirmationsToOwner": True,
                "allowStaffSelection": True,
            },
            "booking_page_settings": {"businessTimeZone": DEMO_TIME_ZONE},
        },
        id_domain=id_domain,
        actor=ACTOR,
    )
    bid = business.id

    def add(kind: Any, changes: dict[str, Any]) -> str:
        return str(records.create_record(db, clock, kind, bid, changes, actor=ACTOR).id)

    staff = [
        add(
            STAFF_MEMBERS,
            {
                "display_name": "Dr. Amara Osei",
                "role": "administrator",
                "email_address": "amara.osei@contosohealth.example",
                "time_zone": DEMO_TIME_ZONE,
                "use_business_hours": False,
                "working_hours": _hours(WEEKDAYS, "08:00", "16:00"),
            },
        ),
        add(
            STAFF_MEMBERS,
            {
                "display_name": "Dr. Lucas Moreau",
                "role": "teamMember",
                "email_address": "lucas.moreau@contosohealth.example",
                "time_zone": "Europe/Paris",
                "use_business_hours": False,
                "working_hours": _hours(("monday", "wednesday", "friday"), "14:00", "22:00"),
            },
        ),
        add(
            STAFF_MEMBERS,
            {
                "display_name": "Priya Natarajan, NP",
                "role": "teamMember",
                "email_address": "priya.natarajan@contosohealth.example",
                "time_zone": DEMO_TIME_ZONE,
                "use_business_hours": True,
                "working_hours": [],
            },
        ),
    ]
    question = add(
        CUSTOM_QUESTIONS,
        {
            "display_name": "What would you like to discuss?",
            "answer_input_type": "text",
            "answer_options": [],
        },
    )
    online = {"display_name": "Online", "location_type": "default"}
    add(
        SERVICES,
        {
            "display_name": "Online visit",
            "default_duration_seconds": 1800,
            "pre_buffer_seconds": 600,
            "post_buffer_seconds": 600,
            "default_price": 40.0,
            "default_price_type": "fixedPrice",
            "is_location_online": True,
            "staff_member_ids": staff,
            "default_location": {"displayName": online["display_name"]},
            "custom_questions": [{"questionId": question, "isRequired": True}],
            "default_reminders": [
                {"offset": "P1D", "recipients": "customer", "message": "Your visit is tomorrow."}
            ],
            "description": "A 30-minute video visit with a clinician.",
        },
    )
    add(
        SERVICES,
        {
            "display_name": "Consultation",
            "default_duration_seconds": 3600,
            "default_price": 120.0,
            "default_price_type": "startingAt",
            "is_location_online": True,
            "staff_member_ids": staff[:2],
            "description": "A one-hour consultation.",
        },
    )
    add(
        SERVICES,
        {
            "display_name": "Group wellness session",
            "default_duration_seconds": 3600,
            "maximum_attendees_count": 5,
            "default_price_type": "free",
            "is_location_online": True,
            "staff_member_ids": [staff[2]],
            "description": "A small-group session, up to five people.",
        },
    )
    for name, email, phone in (
        ("Jordan Lee", "jordan.lee@example.com", "+1 646 555 0101"),
        ("Maria Garcia", "maria.garcia@example.com", "+1 917 555 0102"),
        ("Wei Chen", "wei.chen@example.com", "+1 347 555 0103"),
    ):
        add(
            CUSTOMERS,
            {
                "display_name": name,
                "email_address": email,
                "phones": [{"number": phone, "type": "mobile"}],
                "addresses": [],
            },
        )
    businesses.publish_business(db, clock, bid, actor=ACTOR)
    password = secrets.token_urlsafe(12)
    admin_email = demo_admin_email(id_domain)
    create_user(
        db,
        clock,
        email=admin_email,
        role="administrator",
        password=password,
        display_name="Demo administrator",
        actor=ACTOR,
    )
    _info, token = create_token(
        db, clock, name="demo admin", scopes=ALL_SCOPES, user_email=admin_email, actor=ACTOR
    )
    return DemoResult(
        business_id=bid, admin_email=admin_email, admin_password=password, admin_token=token
    )
