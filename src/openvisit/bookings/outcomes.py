"""Counts what became of each booking request, for the metrics (see openvisit.telemetry).

Kept apart from the booking code so `appointments/` only marks where a booking was
made or refused, and the reason codes live in one place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import ParamSpec, TypeVar

from openvisit import telemetry
from openvisit.errors import Conflict, DomainError, InvalidInput, NotFound
from openvisit.store.faults import StorageUnavailable
from openvisit.store.locking import Busy

P = ParamSpec("P")
R = TypeVar("R")


# The metrics' label for each refusal (stable for dashboards) -> the API's reason.
_API_REASONS = {
    "lead_time": "leadTimeNotMet",
    "advance_limit": "beyondMaximumAdvance",
    "outside_hours": "outsideWorkingHours",
    "conflict": "slotTaken",
    "seats": "notEnoughSeats",
    "no_staff_free": "staffUnavailable",
}


class SlotRefused(Conflict):
    """The time asked for cannot be booked; `label` is the code the metrics count.

    `labels` are scheduling's codes (scheduling/booking.py REFUSAL_CODES), one per staff
    member refused; `detail` says who and why, in scheduling's words.
    """

    def __init__(self, labels: Collection[str], *, detail: str) -> None:
        distinct = set(labels)
        # Several staff refused for different reasons: no one reason explains it.
        label = distinct.pop() if len(distinct) == 1 else "no_staff_free"
        super().__init__(_API_REASONS.get(label, "staffUnavailable"), detail=detail)
        self.label = label


def refusal_reason(error: DomainError) -> str:
    if isinstance(error, SlotRefused):
        return error.label
    if isinstance(error, InvalidInput):
        return "invalid_request"
    if isinstance(error, NotFound):
        return "not_found"
    if isinstance(error, Busy):
        return "busy"
    if isinstance(error, StorageUnavailable):
        return "storage"
    if isinstance(error, Conflict):
        return "other_conflict"
    return "other"


def count_refusals(function: Callable[P, R]) -> Callable[P, R]:
    """Count every domain error `function` raises as a refused booking, then re-raise."""

    @functools.wraps(function)
    def counted(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except DomainError as error:
            telemetry.booking_refused(refusal_reason(error))
            raise

    return counted


def booking_made() -> None:
    telemetry.booking_made()
