"""Column values of an appointment and its hold, as the booking service writes them.

For tests that write rows in bulk (history, the insert helpers): booking thousands of
appointments through the service would take minutes, and only the rows matter there.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any


def appointment_row(business_id: str, staff_id: str, start: datetime) -> dict[str, Any]:
    """A booked 30-minute visit without buffers."""
    end = start + timedelta(minutes=30)
    return {
        "id": str(uuid.uuid4()),
        "business_id": business_id,
        "display_name": "Visit",
        "service_id": None,
        "start_date_time": start,
        "end_date_time": end,
        "pre_buffer_seconds": 0,
        "post_buffer_seconds": 0,
        "blocked_start": start,
        "blocked_end": end,
        "staff_member_ids": [staff_id],
        "customers": [],
        "customer_time_zone": None,
        "seats": 1,
        "maximum_attendees_count": 1,
        "details": {},
        "status": "booked",
        "cancellation_message": None,
        "cancelled_date_time": None,
        "created_date_time": start,
        "last_updated_date_time": start,
    }


def hold_row(appointment: dict[str, Any]) -> dict[str, Any]:
    """The staff hold of a one-on-one appointment row."""
    return {
        "appointment_id": appointment["id"],
        "staff_id": appointment["staff_member_ids"][0],
        "business_id": appointment["business_id"],
        "blocked_start": appointment["blocked_start"],
        "blocked_end": appointment["blocked_end"],
        "group_key": appointment["id"],
    }
