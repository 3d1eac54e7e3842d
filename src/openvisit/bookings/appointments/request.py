"""What a caller asks to book or change an appointment to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class AppointmentRequest:
    """What a caller asks to book. `customers` and `details` keep Graph's camelCase shape."""

    service_id: str
    start: datetime
    end: datetime | None = None
    staff_ids: tuple[str, ...] = ()
    customers: tuple[Mapping[str, Any], ...] = ()
    customer_time_zone: str | None = None
    pre_buffer: timedelta | None = None
    post_buffer: timedelta | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    # The language the consumer booked in (a booking page sets it); None: the business's.
    customer_language: str | None = None
