"""What a create or PATCH request sends, and the appointment request it amounts to.

A PATCH sends only the properties that change: each one not sent keeps its stored value,
a nullable one sent as null clears it. Two rules decide the rest. A move keeps the
appointment's length, but a new service without an end (or duration) takes that service's
length and buffers, as booking it afresh would. `customers` replaces the whole list; the
flat beta fields (customerName, ...) are laid over the first customer instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from openvisit.bookings.appointments.request import AppointmentRequest
from openvisit.errors import InvalidInput
from openvisit.store.models import Appointment


class Keep(Enum):
    """Marks a nullable property the request did not send (None would clear it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class AppointmentChanges:
    """The properties a request sent, in booking terms; None means "not sent".

    `customers` replaces the list when sent; otherwise `first_customer` (the flat beta
    fields) is laid over the first customer. `details` holds the details sent with a
    value, `cleared` the names of details sent as null. `customer_time_zone` is KEEP
    unless sent.
    """

    service_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    duration: timedelta | None = None
    staff_ids: tuple[str, ...] | None = None
    customers: tuple[Mapping[str, Any], ...] | None = None
    first_customer: Mapping[str, Any] = field(default_factory=dict)
    customer_time_zone: str | Keep | None = KEEP
    pre_buffer: timedelta | None = None
    post_buffer: timedelta | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    cleared: frozenset[str] = frozenset()


def new_request(changes: AppointmentChanges) -> AppointmentRequest:
    """A create request; `book` adds the service's defaults for what it leaves out."""
    if changes.service_id is None:
        raise InvalidInput("propertyRequired", target="serviceId", property="serviceId")
    if changes.start is None:
        raise InvalidInput("propertyRequired", target="startDateTime", property="startDateTime")
    return AppointmentRequest(
        service_id=changes.service_id,
        start=changes.start,
        end=_end(changes, changes.start),
        staff_ids=changes.staff_ids or (),
        customers=_customers(changes, ()),
        customer_time_zone=None
        if changes.customer_time_zone is KEEP
        else changes.customer_time_zone,
        pre_buffer=changes.pre_buffer,
        post_buffer=changes.post_buffer,
        details=dict(changes.details),
    )


def merged(current: Appointment, changes: AppointmentChanges) -> AppointmentRequest:
    """The stored appointment with the sent properties laid over it (a PATCH)."""
    service_id = changes.service_id or current.service_id
    if service_id is None:
        raise InvalidInput("serviceGone", target="serviceId")
    same_service = service_id == current.service_id
    start = changes.start or current.start_date_time
    end = _end(changes, start)
    if end is None and same_service:  # a move keeps the length; a new service sets its own
        end = start + (current.end_date_time - current.start_date_time)
    kept = {key: value for key, value in current.details.items() if key not in changes.cleared}
    return AppointmentRequest(
        service_id=service_id,
        start=start,
        end=end,
        staff_ids=(
            changes.staff_ids if changes.staff_ids is not None else tuple(current.staff_member_ids)
        ),
        customers=_customers(changes, tuple(current.customers)),
        customer_time_zone=(
            current.customer_time_zone
            if changes.customer_time_zone is KEEP
            else changes.customer_time_zone
        ),
        pre_buffer=_buffer(changes.pre_buffer, current.pre_buffer_seconds, same_service),
        post_buffer=_buffer(changes.post_buffer, current.post_buffer_seconds, same_service),
        details={**kept, **changes.details},
    )


def _end(changes: AppointmentChanges, start: datetime) -> datetime | None:
    if changes.end is None and changes.duration is not None:
        return start + changes.duration
    return changes.end


def _customers(
    changes: AppointmentChanges, current: tuple[Mapping[str, Any], ...]
) -> tuple[Mapping[str, Any], ...]:
    """`customers` if sent, else the flat beta fields laid over the first customer."""
    if changes.customers is not None:
        return changes.customers
    if not changes.first_customer:
        return current
    first, *rest = current or ({},)
    return ({**first, **changes.first_customer}, *rest)


def _buffer(sent: timedelta | None, stored_seconds: int, same_service: bool) -> timedelta | None:
    if sent is not None:
        return sent
    return timedelta(seconds=stored_seconds) if same_service else None
