"""The booking rules, through the service every write path uses (both backends)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from openvisit.bookings import records
from openvisit.bookings.appointments import (
    AppointmentRequest,
    book,
    cancel,
    reschedule,
)
from openvisit.bookings.services import SERVICES
from openvisit.errors import Conflict, InvalidInput, NotFound
from openvisit.store.locking import is_overlap
from openvisit.store.models import AuditRecord, StaffHold
from tests.bookings.clinic import CONSUMER, MANAGER, TUESDAY_10, book_at, make_clinic
from tests.conftest import build_test_runtime
from tests.databases import requested_backends
from tests.factories import make_question, make_service


def test_a_free_slot_books_with_service_defaults(runtime, clinic):
    appointment = book_at(runtime, clinic)

    assert appointment.end_date_time - appointment.start_date_time == timedelta(minutes=30)
    assert appointment.blocked_start == TUESDAY_10 - timedelta(minutes=10)
    assert appointment.staff_member_ids == (clinic["ann"],)
    assert appointment.display_name == "Visit"


@pytest.mark.parametrize("offset_minutes", [0, 15, -30, 35])
def test_overlap_including_buffers_is_refused(runtime, clinic, offset_minutes):
    book_at(runtime, clinic)

    with pytest.raises(Conflict, match="already booked"):
        book_at(runtime, clinic, start=TUESDAY_10 + timedelta(minutes=offset_minutes))


def test_back_to_back_with_room_for_both_buffers_is_fine(runtime, clinic):
    book_at(runtime, clinic)

    later = book_at(runtime, clinic, start=TUESDAY_10 + timedelta(minutes=50))

    assert later.start_date_time == TUESDAY_10 + timedelta(minutes=50)


def test_another_staff_member_is_not_blocked(runtime, clinic):
    book_at(runtime, clinic)

    assert book_at(runtime, clinic, staff=("bob",)).staff_member_ids == (clinic["bob"],)


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        (datetime(2026, 11, 24, 13, 0, tzinfo=UTC), "outside working hours"),  # 08:00 EST
        (datetime(2026, 11, 28, 15, 0, tzinfo=UTC), "outside working hours"),  # Saturday
        (datetime(2026, 11, 23, 15, 0, tzinfo=UTC), "minimum lead time"),  # in one hour
        (datetime(2027, 1, 5, 15, 0, tzinfo=UTC), "maximum advance"),
    ],
)
def test_consumers_keep_to_hours_lead_time_and_advance(runtime, clinic, start, reason):
    with pytest.raises(Conflict, match=reason):
        book_at(runtime, clinic, start=start)


def test_managers_may_override_hours_but_never_double_book(runtime, clinic):
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)

    book_at(runtime, clinic, start=saturday, authority=MANAGER)

    with pytest.raises(Conflict, match="already booked"):
        book_at(runtime, clinic, start=saturday, authority=MANAGER)


def test_without_staff_the_least_booked_free_member_is_picked_stably(runtime, clinic):
    first = book_at(runtime, clinic, staff=())
    second = book_at(runtime, clinic, staff=(), start=TUESDAY_10 + timedelta(hours=2))
    third = book_at(runtime, clinic, staff=(), start=TUESDAY_10)  # Ann is busy then

    assert first.staff_member_ids == (clinic["ann"],)  # a tie: the service's order decides
    assert second.staff_member_ids == (clinic["bob"],)  # Ann has one that day already
    assert third.staff_member_ids == (clinic["bob"],)


def test_when_nobody_is_free_the_conflict_says_why(runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))
    book_at(runtime, clinic, staff=("bob",))

    with pytest.raises(Conflict) as refused:
        book_at(runtime, clinic, staff=())

    assert refused.value.reason == "slotTaken"  # both refused for the same rule
    assert refused.value.message == (
        "The appointment cannot be booked: no staff member is free (Dr. Ann: the time is "
        "already booked; Dr. Bob: the time is already booked)."
    )


def test_required_questions_must_be_answered(runtime, clinic):
    question = make_question(runtime, clinic["business"], "Reason?")
    service = make_service(
        runtime,
        clinic["business"],
        "Asked",
        staff_member_ids=[clinic["ann"]],
        custom_questions=[{"questionId": question, "isRequired": True}],
    )
    clinic = {**clinic, "asked": service}
    answered = {
        "name": "Jo",
        "customQuestionAnswers": [{"questionId": question, "answer": "Checkup"}],
    }

    with pytest.raises(InvalidInput, match="required question"):
        book_at(runtime, clinic, service="asked", customers=({"name": "Jo"},))
    assert (
        book_at(runtime, clinic, service="asked", customers=(answered,)).customers[0]["name"]
        == "Jo"
    )


def test_a_group_sitting_fills_seat_by_seat(runtime, clinic):
    for _ in range(3):
        book_at(runtime, clinic, service="group", customers=({"name": "x"},))

    with pytest.raises(Conflict, match="already booked"):
        book_at(runtime, clinic, service="group", customers=({"name": "x"},))
    with pytest.raises(Conflict, match="already booked"):  # one-on-one time is taken too
        book_at(runtime, clinic, service="visit")


def test_cancel_frees_the_time_and_keeps_the_record(runtime, clinic):
    appointment = book_at(runtime, clinic)

    cancelled = cancel(
        runtime.db,
        runtime.clock,
        clinic["business"],
        appointment.id,
        "Feeling better",
        authority=CONSUMER,
    )

    assert cancelled.status == "cancelled"
    assert book_at(runtime, clinic).start_date_time == TUESDAY_10
    with pytest.raises(Conflict, match="cancelled"):
        cancel(
            runtime.db, runtime.clock, clinic["business"], appointment.id, None, authority=CONSUMER
        )


def test_reschedule_moves_without_colliding_with_itself(runtime, clinic):
    appointment = book_at(runtime, clinic)
    moved = reschedule(
        runtime.db,
        runtime.clock,
        clinic["business"],
        appointment.id,
        AppointmentRequest(
            service_id=clinic["visit"],
            start=TUESDAY_10 + timedelta(minutes=20),
            staff_ids=(clinic["ann"],),
        ),
        authority=CONSUMER,
    )

    assert moved.start_date_time == TUESDAY_10 + timedelta(minutes=20)
    with runtime.db.read() as session:
        holds = session.scalars(select(StaffHold)).all()
    assert [(hold.blocked_start, hold.staff_id) for hold in holds] == [
        (TUESDAY_10 + timedelta(minutes=10), clinic["ann"])
    ]


def test_an_idempotent_retry_returns_the_first_appointment(runtime, clinic):
    request = AppointmentRequest(
        service_id=clinic["visit"], start=TUESDAY_10, staff_ids=(clinic["ann"],)
    )

    first = book(
        runtime.db,
        runtime.clock,
        clinic["business"],
        request,
        authority=CONSUMER,
        idempotency_key="k1",
        fingerprint="f",
    )
    again = book(
        runtime.db,
        runtime.clock,
        clinic["business"],
        request,
        authority=CONSUMER,
        idempotency_key="k1",
        fingerprint="f",
    )

    assert again.id == first.id
    with pytest.raises(Conflict, match="different request"):
        book(
            runtime.db,
            runtime.clock,
            clinic["business"],
            request,
            authority=CONSUMER,
            idempotency_key="k1",
            fingerprint="other",
        )


@pytest.mark.parametrize("backend", [name for name in requested_backends() if name == "postgresql"])
def test_the_database_refuses_overlapping_holds_even_without_the_service(
    backend, postgres_database, clock
):
    """PostgreSQL's exclusion constraint is the backstop for any path that skips the lock
    (SQLite has no such constraint; its BEGIN IMMEDIATE serializes every writer)."""
    with postgres_database.database() as database:
        runtime = build_test_runtime(database, clock)
        clinic = make_clinic(runtime)
        first, second = book_at(runtime, clinic), book_at(runtime, clinic, staff=("bob",))
        overlapping = [
            (first.id, "a", TUESDAY_10, timedelta(hours=1)),
            (second.id, "b", TUESDAY_10 + timedelta(minutes=30), timedelta(hours=1)),
        ]

        with (
            pytest.raises(IntegrityError, match="ex_staff_holds_no_overlap") as refused,
            database.write() as session,
        ):
            for appointment_id, key, start, length in overlapping:
                session.add(
                    StaffHold(
                        appointment_id=appointment_id,
                        staff_id="someone",
                        business_id=clinic["business"],
                        blocked_start=start,
                        blocked_end=start + length,
                        group_key=key,
                    )
                )

        assert is_overlap(refused.value)
        # Another integrity error is not "already booked": the service lets it surface.
        with pytest.raises(IntegrityError) as other, database.write() as session:
            session.add(
                StaffHold(
                    appointment_id="no-such-appointment",
                    staff_id="x",
                    business_id=clinic["business"],
                    blocked_start=TUESDAY_10,
                    blocked_end=TUESDAY_10,
                    group_key="k",
                )
            )
        assert not is_overlap(other.value)

        # Holds of one group sitting share a key, so they may overlap.
        with database.write() as session:
            for appointment_id, _key, start, length in overlapping:
                session.add(
                    StaffHold(
                        appointment_id=appointment_id,
                        staff_id="someone",
                        business_id=clinic["business"],
                        blocked_start=start,
                        blocked_end=start + length,
                        group_key="same",
                    )
                )


def test_editing_notes_of_a_started_appointment_needs_no_free_slot(runtime, clinic):
    appointment = book_at(runtime, clinic)
    runtime.clock.advance(timedelta(days=1, hours=1, minutes=10))  # 10 minutes into it

    edited = reschedule(
        runtime.db,
        runtime.clock,
        clinic["business"],
        appointment.id,
        AppointmentRequest(
            service_id=clinic["visit"],
            start=TUESDAY_10,
            staff_ids=(clinic["ann"],),
            details={"serviceNotes": "Went well"},
        ),
        authority=CONSUMER,
    )

    assert edited.details == {"serviceNotes": "Went well"}
    with pytest.raises(Conflict, match="once it has started"):  # moving it is not
        reschedule(
            runtime.db,
            runtime.clock,
            clinic["business"],
            appointment.id,
            AppointmentRequest(
                service_id=clinic["visit"], start=TUESDAY_10 + timedelta(minutes=30)
            ),
            authority=CONSUMER,
        )


def test_zero_buffers_on_the_request_override_the_service(runtime, clinic):
    appointment = book_at(runtime, clinic, pre_buffer=timedelta(0), post_buffer=timedelta(0))

    assert appointment.blocked_start == TUESDAY_10
    assert book_at(
        runtime, clinic, start=TUESDAY_10 + timedelta(minutes=40), pre_buffer=timedelta(minutes=10)
    ).staff_member_ids == (clinic["ann"],)


def test_changes_close_at_the_service_cutoff_except_for_managers(runtime, clinic):
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        clinic["business"],
        clinic["visit"],
        {"change_cutoff_seconds": 24 * 3600},
        actor="test",
    )
    appointment = book_at(runtime, clinic)  # Tuesday 10:00; now is Monday 09:00 (25 h ahead)
    later = AppointmentRequest(
        service_id=clinic["visit"],
        start=TUESDAY_10 + timedelta(hours=2),
        staff_ids=(clinic["ann"],),
    )
    runtime.clock.advance(timedelta(hours=2))  # 23 hours before: inside the cut-off

    with pytest.raises(Conflict, match="within 1 day"):
        cancel(
            runtime.db, runtime.clock, clinic["business"], appointment.id, None, authority=CONSUMER
        )
    with pytest.raises(Conflict, match="within 1 day"):
        reschedule(
            runtime.db, runtime.clock, clinic["business"], appointment.id, later, authority=CONSUMER
        )
    moved = reschedule(
        runtime.db, runtime.clock, clinic["business"], appointment.id, later, authority=MANAGER
    )
    assert moved.start_date_time == TUESDAY_10 + timedelta(hours=2)
    assert (
        cancel(
            runtime.db, runtime.clock, clinic["business"], appointment.id, None, authority=MANAGER
        ).status
        == "cancelled"
    )


def test_a_started_appointment_cannot_be_cancelled_by_a_customer(runtime, clinic):
    appointment = book_at(runtime, clinic)
    runtime.clock.advance(timedelta(days=1, hours=1, minutes=5))

    with pytest.raises(Conflict, match="once it has started"):
        cancel(
            runtime.db, runtime.clock, clinic["business"], appointment.id, None, authority=CONSUMER
        )


def test_a_change_built_from_a_stale_read_is_refused(runtime, clinic):
    appointment = book_at(runtime, clinic)
    same_time = AppointmentRequest(
        service_id=clinic["visit"], start=TUESDAY_10, staff_ids=(clinic["ann"],)
    )
    runtime.clock.advance(timedelta(minutes=1))
    reschedule(
        runtime.db,
        runtime.clock,
        clinic["business"],
        appointment.id,
        replace(same_time, details={"serviceNotes": "first"}),
        authority=CONSUMER,
        read_at=appointment.last_updated_date_time,
    )

    with pytest.raises(Conflict, match="changed by someone else"):
        reschedule(
            runtime.db,
            runtime.clock,
            clinic["business"],
            appointment.id,
            replace(same_time, details={"serviceNotes": "second"}),
            authority=CONSUMER,
            read_at=appointment.last_updated_date_time,
        )


def _request(service_id: str, clinic) -> AppointmentRequest:
    return AppointmentRequest(service_id=service_id, start=TUESDAY_10, staff_ids=(clinic["ann"],))


def test_the_business_is_found_whatever_the_case_of_its_id(runtime, clinic):
    request = _request(clinic["visit"], clinic)

    booked = book(
        runtime.db, runtime.clock, clinic["business"].upper(), request, authority=CONSUMER
    )

    assert booked.business_id == clinic["business"]


@pytest.mark.parametrize("business", ["nobody@openvisit.test", "nul\x00@openvisit.test"])
def test_an_unknown_business_is_not_found(runtime, clinic, business):
    with pytest.raises(NotFound, match="booking business"):
        book(
            runtime.db,
            runtime.clock,
            business,
            _request(clinic["visit"], clinic),
            authority=CONSUMER,
        )


def test_a_service_of_another_business_or_none_is_invalid(runtime, clinic):
    other = make_clinic(runtime)  # a second business with services of its own

    for service_id in (other["visit"], "no-such-service", "nul\x00"):
        with pytest.raises(InvalidInput, match="no service") as raised:
            book(
                runtime.db,
                runtime.clock,
                clinic["business"],
                _request(service_id, clinic),
                authority=CONSUMER,
            )
        assert raised.value.target == "serviceId"


def test_a_consumer_cannot_name_staff_who_do_not_give_the_service(runtime, clinic):
    # The group class is given by Dr. Ann only; the slot listings never offer Dr. Bob.
    with pytest.raises(InvalidInput) as refused:
        book_at(runtime, clinic, staff=("bob",), service="group")
    assert refused.value.reason == "staffNotOnService"
    assert "Dr. Bob" in refused.value.message


def test_a_manager_who_overrides_may_name_anyone_and_it_is_audited(runtime, clinic):
    booked = book_at(runtime, clinic, staff=("bob",), service="group", authority=MANAGER)
    assert booked.staff_member_ids == (clinic["bob"],)
    with runtime.db.read() as session:
        rules = session.scalars(
            select(AuditRecord.data).where(
                AuditRecord.action == "openvisit.appointment.rulesOverridden",
                AuditRecord.subject == booked.id,
            )
        ).one()["rules"]
    assert rules == ["Dr. Bob: does not provide this service"]
