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


class SlotRefused(Conflict):
    """The time asked for cannot be booked; `reason` is the code the metrics count."""

    def __init__(self, message: str, *, reasons: Collection[str]) -> None:
        super().__init__(message)
        distinct = set(reasons)
        # Several staff refused for different reasons: no one reason explains it.
        self.reason = distinct.pop() if len(distinct) == 1 else "no_staff_free"


def refusal_reason(error: DomainError) -> str:
    if isinstance(error, SlotRefused):
        return error.reason
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
