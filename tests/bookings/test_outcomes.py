"""Bookings made and refused are counted for /metrics, each refusal under its reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.errors import Conflict
from tests.bookings.clinic import CONSUMER, TUESDAY_10, book_at


def _made() -> float:
    return REGISTRY.get_sample_value("openvisit_bookings_made_total") or 0.0


def _refused(reason: str) -> float:
    value = REGISTRY.get_sample_value("openvisit_bookings_refused_total", {"reason": reason})
    return value or 0.0


def test_a_booking_and_its_idempotent_replay_count_once(runtime, clinic):
    before = _made()

    request = AppointmentRequest(
        service_id=clinic["visit"], start=TUESDAY_10, staff_ids=(clinic["ann"],)
    )
    for _ in range(2):
        book(
            runtime.db,
            runtime.clock,
            clinic["business"],
            request,
            authority=CONSUMER,
            idempotency_key="k1",
            fingerprint="same",
        )

    assert _made() == before + 1


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        (TUESDAY_10, "conflict"),
        (datetime(2026, 11, 28, 15, 0, tzinfo=UTC), "outside_hours"),  # Saturday
        (datetime(2026, 11, 23, 15, 0, tzinfo=UTC), "lead_time"),  # in one hour
        (datetime(2027, 1, 5, 15, 0, tzinfo=UTC), "advance_limit"),
    ],
)
def test_refusals_are_counted_by_reason(runtime, clinic, start, reason):
    book_at(runtime, clinic)  # makes TUESDAY_10 taken
    made, refused = _made(), _refused(reason)

    with pytest.raises(Conflict):
        book_at(runtime, clinic, start=start)

    assert (_made(), _refused(reason)) == (made, refused + 1)
