"""Reminders from booking to delivery with an injected clock (both backends).

The planner writes rows in the booking's transaction; the dispatcher sends what is due.
Together: reminders fire at their offsets, move with a reschedule, vanish with a cancel,
survive a dispatcher killed between claim and send (nothing lost, nothing twice), and a
reminder whose moment passed while the server was down goes out if the visit has not
begun, and is dropped (and logged) if it has.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest

from openvisit.bookings import records
from openvisit.bookings.appointments import AppointmentRequest, cancel, reschedule
from openvisit.bookings.services import SERVICES
from openvisit.clock import FixedClock
from openvisit.runtime import Runtime
from tests.bookings.clinic import CONSUMER, TUESDAY_10, Clinic, book_at, make_clinic
from tests.notify.support import Recording, dispatcher, events, statuses

CUSTOMER = {"name": "Ann Customer", "emailAddress": "ann.customer@example.test"}
DAY_BEFORE = {"offset": "P1D", "recipients": "allAttendees", "message": "See you tomorrow"}
THURSDAY_10 = TUESDAY_10 + timedelta(days=2)


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    place = make_clinic(runtime)
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        place["business"],
        place["visit"],
        {"default_reminders": [DAY_BEFORE]},
        actor="test",
    )
    return place


def run(runtime: Runtime, transport: Recording, **options: object) -> int:
    return asyncio.run(dispatcher(runtime.db, runtime.clock, transport, **options).run_once())


def move_to(runtime: Runtime, when: datetime) -> None:
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    clock.advance(when - clock.now())


def kinds(transport: Recording) -> Counter[str]:
    return Counter(key.split(":")[1] for key in transport.accepted)


def test_a_reminder_fires_at_its_offset_and_moves_with_a_reschedule(runtime, clinic):
    booked = book_at(runtime, clinic, THURSDAY_10, customers=(CUSTOMER,))
    sent = Recording()
    run(runtime, sent)
    assert kinds(sent) == {"confirmation": 1, "staffBooked": 1}

    move_to(runtime, THURSDAY_10 - timedelta(days=1, minutes=1))
    assert run(runtime, sent) == 0  # a minute early: nothing

    friday_11 = THURSDAY_10 + timedelta(days=1, hours=1)
    request = AppointmentRequest(
        service_id=clinic["visit"],
        start=friday_11,
        staff_ids=(clinic["ann"],),
        customers=(CUSTOMER,),
    )
    reschedule(
        runtime.db, runtime.clock, clinic["business"], booked.id, request, authority=CONSUMER
    )
    run(runtime, sent)
    assert kinds(sent) == {
        "confirmation": 1,
        "staffBooked": 1,
        "rescheduled": 1,
        "staffRescheduled": 1,
    }

    move_to(runtime, THURSDAY_10 - timedelta(days=1))
    assert run(runtime, sent) == 0  # the old moment: the reminder moved away from it

    move_to(runtime, friday_11 - timedelta(days=1))
    run(runtime, sent)
    assert kinds(sent)["reminder"] == 2  # the customer and Dr. Ann, once each
    assert all(count == 1 for count in Counter(sent.accepted).values())
    move_to(runtime, friday_11)
    assert run(runtime, sent) == 0


def test_a_cancel_takes_the_reminders_with_it(runtime, clinic):
    booked = book_at(runtime, clinic, THURSDAY_10, customers=(CUSTOMER,))
    sent = Recording()
    run(runtime, sent)
    cancel(
        runtime.db,
        runtime.clock,
        clinic["business"],
        booked.id,
        "Feeling better",
        authority=CONSUMER,
    )
    run(runtime, sent)
    move_to(runtime, THURSDAY_10 - timedelta(hours=1))
    run(runtime, sent)
    assert kinds(sent) == {"confirmation": 1, "staffBooked": 1, "cancelled": 1, "staffCancelled": 1}


def test_a_dispatcher_killed_between_claim_and_send_loses_nothing_and_sends_once(runtime, clinic):
    book_at(runtime, clinic, THURSDAY_10, customers=(CUSTOMER,))
    book_at(runtime, clinic, THURSDAY_10, staff=("bob",), customers=(CUSTOMER,))
    move_to(runtime, THURSDAY_10 - timedelta(days=1))
    doomed = dispatcher(runtime.db, runtime.clock, Recording(), worker_id="doomed")
    claim = asyncio.run(doomed.claim())
    # 2 confirmations, 2 notices, 4 reminders, all committed as sending
    assert len(claim.fences) == 8
    del doomed  # the process dies here: nothing was handed to a transport

    sent = Recording()
    assert run(runtime, sent, worker_id="next") == 0  # the dead worker's lease still holds
    runtime.clock.advance(timedelta(minutes=5, seconds=1))
    run(runtime, sent, worker_id="next")
    assert len(sent.accepted) == 8
    assert all(count == 1 for count in Counter(sent.accepted).values())
    assert set(statuses(runtime.db).values()) == {"sent"}


def test_after_downtime_a_due_reminder_still_goes_out_before_the_visit(runtime, clinic):
    book_at(runtime, clinic, THURSDAY_10, customers=(CUSTOMER,))
    sent = Recording()
    run(runtime, sent)
    move_to(runtime, THURSDAY_10 - timedelta(hours=3))  # the server was down for 21 hours
    run(runtime, sent)
    assert kinds(sent)["reminder"] == 2


def test_after_downtime_past_the_start_the_reminder_is_dropped_and_logged(runtime, clinic):
    book_at(runtime, clinic, THURSDAY_10, customers=(CUSTOMER,))
    sent = Recording()
    run(runtime, sent)
    move_to(runtime, THURSDAY_10 + timedelta(minutes=5))  # down until the visit had begun
    run(runtime, sent)
    assert kinds(sent)["reminder"] == 0
    dropped = [key for key, status in statuses(runtime.db).items() if status == "dropped"]
    assert len(dropped) == 2
    assert [event for event, _detail, _worker in events(runtime.db, dropped[0])][-1] == "dropped"
