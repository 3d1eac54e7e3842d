"""Every appointment change writes its messages in the same transaction (both backends).

The clinic is in New York; the test clock is Monday 2026-11-23 14:00Z. The visit has a
default reminder a day before to everyone; appointments add their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from openvisit.bookings import records
from openvisit.bookings.appointments import (
    AppointmentChanges,
    cancel,
    delete,
    reschedule,
)
from openvisit.bookings.appointments import (
    update as update_appointment,
)
from openvisit.bookings.appointments.request import AppointmentRequest
from openvisit.bookings.outcomes import SlotRefused
from openvisit.bookings.services import SERVICES
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.runtime import Runtime
from openvisit.store.models import Notification, NotificationEvent
from tests.bookings.clinic import CONSUMER, TUESDAY_10, Clinic, book_at

ANN_CUSTOMER = {"name": "Ann Customer", "emailAddress": "ann.customer@example.test"}
DAY_BEFORE = {"offset": "P1D", "recipients": "allAttendees", "message": "See you tomorrow"}


@dataclass(frozen=True)
class Row:
    id: str
    kind: str
    channel: str
    audience: str
    recipient: str
    status: str
    due_at: datetime
    expires_at: datetime | None
    sequence: int
    data: dict[str, Any]


def rows(runtime: Runtime, appointment_id: str | None = None) -> list[Row]:
    with runtime.db.read() as session:
        query = select(Notification).order_by(
            Notification.created_at, Notification.kind, Notification.recipient, Notification.channel
        )
        if appointment_id is not None:
            query = query.where(Notification.appointment_id == appointment_id)
        return [
            Row(
                row.id,
                row.kind,
                row.channel,
                row.audience,
                row.recipient,
                row.status,
                row.due_at,
                row.expires_at,
                row.data["sequence"],
                dict(row.data),
            )
            for row in session.scalars(query)
        ]


def events(runtime: Runtime, notification_id: str) -> list[str]:
    with runtime.db.read() as session:
        return list(
            session.scalars(
                select(NotificationEvent.event)
                .where(NotificationEvent.notification_id == notification_id)
                .order_by(NotificationEvent.id)
            )
        )


def summary(found: list[Row]) -> list[tuple[str, str, str, str]]:
    return sorted((row.kind, row.channel, row.recipient, row.status) for row in found)


@pytest.fixture
def reminding(runtime: Runtime, clinic: Clinic) -> Clinic:
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        clinic["business"],
        clinic["visit"],
        {"default_reminders": [DAY_BEFORE]},
        actor="test",
    )
    return clinic


def book(runtime: Runtime, clinic: Clinic, start: datetime = TUESDAY_10, **kwargs):
    kwargs.setdefault("customers", (ANN_CUSTOMER,))
    return book_at(runtime, clinic, start, **kwargs)


def test_a_booking_writes_confirmation_provider_notice_and_reminders(runtime, reminding):
    start = TUESDAY_10 + timedelta(days=2)
    booked = book(
        runtime,
        reminding,
        start,
        details={"reminders": [{"offset": "PT1H", "recipients": "staff", "message": ""}]},
    )
    found = rows(runtime, booked.id)
    assert summary(found) == [
        ("confirmation", "email", "ann.customer@example.test", "pending"),
        ("reminder", "email", "ann.customer@example.test", "pending"),
        ("reminder", "email", "ann@example.test", "pending"),
        ("reminder", "email", "ann@example.test", "pending"),
        ("staffBooked", "email", "ann@example.test", "pending"),
    ]
    by_due = {(row.kind, row.recipient, row.due_at) for row in found}
    now = runtime.clock.now()
    assert ("confirmation", "ann.customer@example.test", now) in by_due
    assert ("reminder", "ann.customer@example.test", start - timedelta(days=1)) in by_due
    assert ("reminder", "ann@example.test", start - timedelta(hours=1)) in by_due
    reminder = next(row for row in found if row.kind == "reminder" and row.audience == "customer")
    assert reminder.expires_at == start  # once the visit began, a late reminder is dropped
    assert reminder.data["message"] == "See you tomorrow"
    assert reminder.data["offset"] == "P1D"
    assert {row.sequence for row in found} == {0}
    assert all(events(runtime, row.id) == ["queued"] for row in found)


def test_a_reminder_whose_moment_already_passed_is_not_planned(runtime, reminding):
    # Tuesday 09:00 in New York, booked on Monday at 09:00: the day-before moment is now.
    booked = book(runtime, reminding, TUESDAY_10 - timedelta(hours=1))
    assert [row.kind for row in rows(runtime, booked.id)] == ["confirmation", "staffBooked"]


def test_the_offset_is_a_duration_even_across_a_change_of_clocks(runtime, reminding):
    # New York leaves summer time on 2026-11-01; the clock is then 2026-10-29 12:00Z.
    runtime.clock.advance(datetime.fromisoformat("2026-10-29T12:00:00+00:00") - runtime.clock.now())
    start = datetime.fromisoformat("2026-11-02T15:00:00+00:00")  # Monday 10:00 EST
    booked = book(runtime, reminding, start)
    reminder = next(
        row
        for row in rows(runtime, booked.id)
        if row.kind == "reminder" and row.audience == "customer"
    )
    assert reminder.due_at == start - timedelta(hours=24)


def test_preferences_decide_the_channels(runtime, clinic):
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        clinic["business"],
        clinic["visit"],
        {"sms_notifications_enabled": True},
        actor="test",
    )
    records.update_record(
        runtime.db,
        runtime.clock,
        STAFF_MEMBERS,
        clinic["business"],
        clinic["ann"],
        {"is_email_notification_enabled": False},
        actor="test",
    )
    customers = (
        {**ANN_CUSTOMER, "phone": "(212) 555-0147", "smsNotificationsEnabled": True},
        {"name": "No Text", "emailAddress": "no.text@example.test", "phone": "+1 212 555 0148"},
        {"name": "Bad Number", "phone": "12", "smsNotificationsEnabled": True},
    )
    booked = book(runtime, clinic, customers=customers, details={"optOutOfCustomerEmail": False})
    assert summary(rows(runtime, booked.id)) == [
        ("confirmation", "email", "ann.customer@example.test", "pending"),
        ("confirmation", "email", "no.text@example.test", "pending"),
        ("confirmation", "sms", "+12125550147", "pending"),
    ]
    other = book(
        runtime,
        clinic,
        TUESDAY_10 + timedelta(hours=2),
        customers=customers,
        details={"optOutOfCustomerEmail": True, "smsNotificationsEnabled": True},
    )
    assert summary(rows(runtime, other.id)) == [
        ("confirmation", "sms", "+12125550147", "pending"),
        ("confirmation", "sms", "+12125550148", "pending"),
    ]


def test_customer_messages_speak_the_booking_language_staff_the_business_one(runtime, clinic):
    booked = book(runtime, clinic, customer_language="de-DE")
    assert dict(_languages(runtime, booked.id)) == {"confirmation": "de", "staffBooked": "en"}


def _languages(runtime: Runtime, appointment_id: str):
    with runtime.db.read() as session:
        found = session.scalars(
            select(Notification).where(Notification.appointment_id == appointment_id)
        ).all()
        return [(row.kind, row.language) for row in found]


def test_a_refused_booking_leaves_no_message_behind(runtime, clinic):
    book(runtime, clinic)
    with pytest.raises(SlotRefused):
        book(runtime, clinic)
    assert len(rows(runtime)) == 2


def test_a_reschedule_moves_pending_reminders_and_tells_everyone(runtime, reminding):
    first = TUESDAY_10 + timedelta(days=2)
    booked = book(runtime, reminding, first)
    before = {row.kind + row.audience: row for row in rows(runtime, booked.id)}
    later = first + timedelta(days=1, hours=1)
    moved = reschedule(
        runtime.db,
        runtime.clock,
        reminding["business"],
        booked.id,
        AppointmentRequest(
            service_id=reminding["visit"],
            start=later,
            staff_ids=(reminding["ann"],),
            customers=(ANN_CUSTOMER,),
        ),
        authority=CONSUMER,
    )
    assert moved.ical_sequence == 1
    after = rows(runtime, booked.id)
    reminder = next(row for row in after if row.kind == "reminder" and row.audience == "customer")
    assert reminder.id == before["remindercustomer"].id  # the same row, moved
    assert reminder.due_at == later - timedelta(days=1)
    assert reminder.sequence == 1
    assert events(runtime, reminder.id) == ["queued", "moved"]
    assert summary(after) == [
        ("confirmation", "email", "ann.customer@example.test", "cancelled"),  # superseded, unsent
        ("reminder", "email", "ann.customer@example.test", "pending"),
        ("reminder", "email", "ann@example.test", "pending"),
        ("rescheduled", "email", "ann.customer@example.test", "pending"),
        ("staffBooked", "email", "ann@example.test", "cancelled"),
        ("staffRescheduled", "email", "ann@example.test", "pending"),
    ]
    notice = next(row for row in after if row.kind == "rescheduled")
    assert notice.data["previousStart"] == first.isoformat()
    assert notice.sequence == 1


def test_a_reminder_already_sent_is_planned_again_for_the_new_time(runtime, reminding):
    first = TUESDAY_10 + timedelta(days=2)
    booked = book(runtime, reminding, first)
    with runtime.db.write() as session:
        session.execute(update(Notification).values(status="sent"))
    reschedule(
        runtime.db,
        runtime.clock,
        reminding["business"],
        booked.id,
        AppointmentRequest(
            service_id=reminding["visit"],
            start=first + timedelta(days=5),
            staff_ids=(reminding["ann"],),
            customers=(ANN_CUSTOMER,),
        ),
        authority=CONSUMER,
    )
    reminders = [row for row in rows(runtime, booked.id) if row.kind == "reminder"]
    assert sorted((row.recipient, row.status, row.sequence) for row in reminders) == [
        ("ann.customer@example.test", "pending", 1),
        ("ann.customer@example.test", "sent", 0),
        ("ann@example.test", "pending", 1),
        ("ann@example.test", "sent", 0),
    ]


def test_moving_to_another_provider_tells_both(runtime, clinic):
    booked = book(runtime, clinic)
    reschedule(
        runtime.db,
        runtime.clock,
        clinic["business"],
        booked.id,
        AppointmentRequest(
            service_id=clinic["visit"],
            start=TUESDAY_10,
            staff_ids=(clinic["bob"],),
            customers=(ANN_CUSTOMER,),
        ),
        authority=CONSUMER,
    )
    staff = sorted(
        (row.kind, row.recipient, row.status)
        for row in rows(runtime, booked.id)
        if row.audience == "staff"
    )
    assert staff == [
        ("staffBooked", "ann@example.test", "cancelled"),
        ("staffBooked", "bob@example.test", "pending"),
        ("staffCancelled", "ann@example.test", "pending"),
    ]


def test_an_edit_that_keeps_the_time_changes_reminder_recipients_only(runtime, reminding):
    start = TUESDAY_10 + timedelta(days=2)
    booked = book(runtime, reminding, start)
    changes = AppointmentChanges(customers=({"name": "Ann", "emailAddress": "new@example.test"},))
    edited = update_appointment(
        runtime.db, runtime.clock, reminding["business"], booked.id, changes, authority=CONSUMER
    )
    assert edited.ical_sequence == 0
    assert summary(rows(runtime, booked.id)) == [
        ("confirmation", "email", "ann.customer@example.test", "pending"),  # about the same visit
        ("reminder", "email", "ann.customer@example.test", "cancelled"),
        ("reminder", "email", "ann@example.test", "pending"),
        ("reminder", "email", "new@example.test", "pending"),
        ("staffBooked", "email", "ann@example.test", "pending"),
    ]


def test_an_edit_keeps_a_reminder_the_dispatcher_has_not_reached(runtime, reminding):
    start = TUESDAY_10 + timedelta(days=2)
    booked = book(runtime, reminding, start)
    runtime.clock.advance(
        start - timedelta(hours=12) - runtime.clock.now()
    )  # past the reminder's moment
    changes = AppointmentChanges(details={"serviceNotes": "bring your card"})
    update_appointment(
        runtime.db, runtime.clock, reminding["business"], booked.id, changes, authority=CONSUMER
    )
    reminders = [row for row in rows(runtime, booked.id) if row.kind == "reminder"]
    assert {row.status for row in reminders} == {"pending"}


def test_a_cancel_cancels_what_is_unsent_and_says_so(runtime, reminding):
    start = TUESDAY_10 + timedelta(days=2)
    booked = book(runtime, reminding, start)
    cancelled = cancel(
        runtime.db,
        runtime.clock,
        reminding["business"],
        booked.id,
        "I am better",
        authority=CONSUMER,
    )
    assert cancelled.ical_sequence == 1
    found = rows(runtime, booked.id)
    assert summary(found) == [
        ("cancelled", "email", "ann.customer@example.test", "pending"),
        ("confirmation", "email", "ann.customer@example.test", "cancelled"),
        ("reminder", "email", "ann.customer@example.test", "cancelled"),
        ("reminder", "email", "ann@example.test", "cancelled"),
        ("staffBooked", "email", "ann@example.test", "cancelled"),
        ("staffCancelled", "email", "ann@example.test", "pending"),
    ]
    notice = next(row for row in found if row.kind == "cancelled")
    assert (notice.sequence, notice.data["cancellationMessage"]) == (1, "I am better")
    reminder = next(row for row in found if row.kind == "reminder")
    assert events(runtime, reminder.id) == ["queued", "cancelled"]


def test_a_delete_cancels_what_is_unsent_and_keeps_the_log(runtime, reminding):
    booked = book(runtime, reminding, TUESDAY_10 + timedelta(days=2))
    delete(
        runtime.db,
        runtime.clock,
        reminding["business"],
        booked.id,
        actor="test",
        documents=runtime.documents,
    )
    found = rows(runtime)
    assert {row.status for row in found} == {"cancelled"}
    with runtime.db.read() as session:
        assert set(session.scalars(select(Notification.appointment_id))) == {None}
