"""Holds read as epoch microseconds by the database agree with the stored datetimes."""

from __future__ import annotations

from datetime import timedelta

from openvisit.scheduling.slot_counts import micros
from openvisit.store.hold_ranges import hold_ranges
from tests.bookings.clinic import MANAGER, TUESDAY_10, book_at, make_clinic


def test_every_hold_to_the_microsecond_one_row_per_staff_member(runtime):
    clinic = make_clinic(runtime)
    odd = TUESDAY_10 + timedelta(microseconds=123_457)
    made = [
        book_at(runtime, clinic, start=odd, staff=("ann",), authority=MANAGER),
        book_at(runtime, clinic, start=TUESDAY_10 + timedelta(hours=3), staff=("ann",)),
        book_at(runtime, clinic, start=TUESDAY_10, staff=("bob",)),
    ]
    far = book_at(runtime, clinic, start=TUESDAY_10 + timedelta(days=9), staff=("bob",))

    with runtime.db.read() as session:
        found = hold_ranges(
            session,
            [clinic["ann"], clinic["bob"], "nobody"],
            TUESDAY_10 - timedelta(days=1),
            TUESDAY_10 + timedelta(days=1),
        )

    expected: dict[str, list[tuple[int, int]]] = {clinic["ann"]: [], clinic["bob"]: []}
    for appointment in made:
        for staff_id in appointment.staff_member_ids:
            expected[staff_id].append(
                (micros(appointment.blocked_start), micros(appointment.blocked_end))
            )
    assert {staff: sorted(ranges) for staff, ranges in found.items()} == expected
    assert 123_457 in {low % 1_000_000 for low, _high in found[clinic["ann"]]}
    assert all(micros(far.blocked_start) not in (low for low, _ in r) for r in found.values())
