"""Property values both SDK suites write: msgraph-sdk on /v1.0, msgraph-beta-sdk on /beta.

Plain keyword arguments, so each suite builds its own SDK's model classes from them.
"""

from __future__ import annotations

import datetime
from typing import Any

# Server-maintained on every entity; a client never writes them.
TIMESTAMPS = frozenset({"created_date_time", "last_updated_date_time"})
BUSINESS_READ_ONLY = frozenset(
    {
        "id",
        "is_published",
        "public_url",
        *TIMESTAMPS,
        # navigation properties, managed through their own collections
        "appointments",
        "calendar_view",
        "custom_questions",
        "customers",
        "services",
        "staff_members",
    }
)
BUSINESS: dict[str, Any] = {
    "display_name": "Fourth Coffee Clinic",
    "business_type": "Health clinic",
    "email": "front-desk@fourthcoffee.example",
    "phone": "+1 206 555 0100",
    "web_site_url": "https://fourthcoffee.example/clinic",
    "default_currency_iso": "EUR",
    "language_tag": "en-GB",
}
ADDRESS: dict[str, Any] = {
    "city": "Buffalo",
    "state": "NY",
    "country_or_region": "USA",
    "postal_code": "98052",
}
SCHEDULING_POLICY: dict[str, Any] = {
    "time_slot_interval": datetime.timedelta(minutes=15),
    "minimum_lead_time": datetime.timedelta(hours=12),
    "maximum_advance": datetime.timedelta(days=60),
    "send_confirmations_to_owner": True,
    "allow_staff_selection": False,
    "is_meeting_invite_to_customers_enabled": True,
}
BOOKING_PAGE_SETTINGS: dict[str, Any] = {
    "booking_page_color_code": "#0F6CBD",
    "business_time_zone": "Pacific Standard Time",
    "customer_consent_message": "We keep your details for your visit only.",
    "enforce_one_time_password": False,
    "is_business_logo_display_enabled": True,
    "is_customer_consent_enabled": True,
    "is_search_engine_indexability_disabled": True,
    "is_time_slot_time_zone_set_to_business_time_zone": True,
    "privacy_policy_web_url": "https://fourthcoffee.example/privacy",
    "terms_and_conditions_web_url": "https://fourthcoffee.example/terms",
}
STAFF_MEMBER: dict[str, Any] = {
    "display_name": "Dr. Amara Osei",
    "email_address": "amara.osei@fourthcoffee.example",
    "time_zone": "Pacific Standard Time",  # Windows zone names are what Bookings sends
    "use_business_hours": False,
    "is_email_notification_enabled": True,
    "availability_is_affected_by_personal_calendar": True,
}
