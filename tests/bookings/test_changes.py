"""PATCH semantics in the booking service: what a partial change keeps, clears and moves.

`update` lays the sent properties (`AppointmentChanges`) over the stored appointment in
the transaction that changes it; `grant` decides whether a request may set the rules
aside. Both backends, through the real database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from openvisit.bookings.appointments import (
    AppointmentChanges,
    cancel,
    get_appointment,
    new_request,
    update,
)
from openvisit.bookings.authority import Authority, grant
from openvisit.bookings.views import AppointmentView
from openvisit.errors import Conflict, Forbidden, InvalidInput, NotFound
from openvisit.runtime import Runtime
from openvisit.store.models import Appointment, AuditRecord, StaffHold
from tests.bookings.clinic import CONSUMER, TUESDAY_10, Clinic, book_at

CUSTOMERS = ({"name": "Jordan Lee", "phone": "555-0100"}, {"name": "Sam Lee"})


@pytest.fixture
def booked(runtime, clinic):
    """Ann's visit on Tuesday 10:00 with two customers, notes and a time zone."""
    return book_at(
        runtime,
        clinic,
        customers=CUSTOMERS,
        customer_time_zone="America/Chicago",
        details={"serviceNotes": "Bring results", "additionalInformation": "Room 4"},
    )


def _update(
    runtime: Runtime,
    clinic: Clinic,
    appointment: AppointmentView,
    authority: Authority = CONSUMER,
    **changes: Any,
) -> AppointmentView:
    return update(
        runtime.db,
        runtime.clock,
        clinic["business"],
        appointment.id,
        AppointmentChanges(**changes),
        authority=authority,
    )


def _actions(runtime: Runtime, appointment: Appointment) -> list[str]:
    with runtime.db.read() as session:
        rows = session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.subject == appointment.id)
            .order_by(AuditRecord.id)
        )
        return list(rows)


def test_a_partial_update_keeps_everything_it_does_not_send(runtime, clinic, booked):
    _update(runtime, clinic, booked, details={"serviceNotes": "Fasting"})

    stored = get_appointment(runtime.db, clinic["business"], booked.id)
    assert stored.details["serviceNotes"] == "Fasting"
    assert stored.details["additionalInformation"] == "Room 4"
    assert (stored.start_date_time, stored.end_date_time) == (
        booked.start_date_time,
        booked.end_date_time,
    )
    assert stored.staff_member_ids == booked.staff_member_ids
    assert stored.customers == tuple(CUSTOMERS)
    assert stored.customer_time_zone == "America/Chicago"
    assert _actions(runtime, booked)[-1] == "openvisit.appointment.updated"


def test_nulls_clear_details_and_the_customer_time_zone(runtime, clinic, booked):
    _update(runtime, clinic, booked, cleared=frozenset({"serviceNotes"}), customer_time_zone=None)

    stored = get_appointment(runtime.db, clinic["business"], booked.id)
    assert "serviceNotes" not in stored.details
    assert stored.details["additionalInformation"] == "Room 4"
    assert stored.customer_time_zone is None


def test_a_new_start_moves_the_appointment_with_its_length_and_buffers(runtime, clinic, booked):
    later = TUESDAY_10 + timedelta(hours=2)

    moved = _update(runtime, clinic, booked, start=later)

    assert (moved.start_date_time, moved.end_date_time) == (later, later + timedelta(minutes=30))
    with runtime.db.read() as session:
        holds = session.execute(select(StaffHold.blocked_start, StaffHold.blocked_end)).all()
    assert holds == [(later - timedelta(minutes=10), later + timedelta(minutes=40))]
    assert _actions(runtime, booked)[-1] == "openvisit.appointment.rescheduled"
    # The old time is free again: another visit books there.
    assert book_at(runtime, clinic).start_date_time == TUESDAY_10


def test_a_duration_sets_the_end_from_the_start(runtime, clinic, booked):
    moved = _update(runtime, clinic, booked, duration=timedelta(minutes=45))

    assert moved.end_date_time == TUESDAY_10 + timedelta(minutes=45)


def test_a_new_service_without_an_end_takes_its_length_and_buffers(runtime, clinic, booked):
    moved = _update(runtime, clinic, booked, service_id=clinic["group"], customers=())

    assert moved.service_id == clinic["group"]
    assert moved.end_date_time - moved.start_date_time == timedelta(hours=1)
    assert (moved.pre_buffer_seconds, moved.post_buffer_seconds) == (0, 0)


def test_customers_replace_the_list_and_flat_fields_change_the_first(runtime, clinic, booked):
    replaced = _update(runtime, clinic, booked, customers=({"name": "Alex Kim"},))
    assert replaced.customers == ({"name": "Alex Kim"},)

    edited = _update(runtime, clinic, replaced, first_customer={"phone": "555-0199"})
    assert edited.customers == ({"name": "Alex Kim", "phone": "555-0199"},)


def test_new_staff_are_booked_under_the_rules(runtime, clinic, booked):
    restaffed = _update(runtime, clinic, booked, staff_ids=(clinic["bob"],))

    assert restaffed.staff_member_ids == (clinic["bob"],)
    with pytest.raises(Conflict, match="lead time"):
        _update(runtime, clinic, restaffed, start=runtime.clock.now() + timedelta(minutes=30))


def test_a_cancelled_appointment_is_gone_for_a_patch(runtime, clinic, booked):
    cancel(runtime.db, runtime.clock, clinic["business"], booked.id, None, authority=CONSUMER)

    with pytest.raises(NotFound, match="was cancelled"):
        _update(runtime, clinic, booked, details={"serviceNotes": "late"})


def test_someone_elses_appointment_is_not_there_for_a_team_member(runtime, clinic, booked):
    own_calendar = Authority(actor="bob", own_staff_id=clinic["bob"])

    with pytest.raises(NotFound):
        _update(runtime, clinic, booked, authority=own_calendar, details={"serviceNotes": "x"})


def test_a_create_needs_a_service_and_a_start():
    with pytest.raises(InvalidInput, match="serviceId"):
        new_request(AppointmentChanges(start=TUESDAY_10))
    with pytest.raises(InvalidInput, match="startDateTime"):
        new_request(AppointmentChanges(service_id="visit"))


def test_a_create_lays_flat_customer_fields_over_an_empty_list():
    request = new_request(
        AppointmentChanges(
            service_id="visit",
            start=TUESDAY_10,
            duration=timedelta(minutes=20),
            first_customer={"name": "Jordan Lee"},
        )
    )

    assert request.customers == ({"name": "Jordan Lee"},)
    assert request.end == TUESDAY_10 + timedelta(minutes=20)
    assert request.customer_time_zone is None


def test_only_a_caller_who_may_sets_the_rules_aside():
    with pytest.raises(Forbidden, match="may use 'Prefer: x'"):
        grant("token", override="Prefer: x", may_override=False, own_staff_id=None)

    assert grant("token", override="Prefer: x", may_override=True, own_staff_id=None).override_hours
    held = grant("token", override=None, may_override=True, own_staff_id="ann")
    assert (held.override_hours, held.own_staff_id) == (False, "ann")
