"""A manage link opens its appointment until it expires or is revoked (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from openvisit import link_tokens
from openvisit.bookings.appointments import cancel
from openvisit.bookings.manage_links import appointment_for_link, manage_token_for
from openvisit.consumer_links import MANAGE, MANAGE_VALID_AFTER_END
from openvisit.errors import NotFound
from openvisit.store.models import Appointment
from tests.bookings.clinic import CONSUMER, book_at
from tests.conftest import TEST_SECRET


def test_a_link_opens_its_appointment_and_business(runtime, clinic):
    booked = book_at(runtime, clinic)
    token = manage_token_for(TEST_SECRET, booked)
    linked = appointment_for_link(runtime.db, runtime.clock, TEST_SECRET, token)
    assert linked.appointment.id == booked.id
    assert linked.business.id == clinic["business"]
    assert linked.token == token


def test_a_cancelled_appointment_still_opens(runtime, clinic):
    booked = book_at(runtime, clinic)
    token = manage_token_for(TEST_SECRET, booked)
    cancel(runtime.db, runtime.clock, clinic["business"], booked.id, None, authority=CONSUMER)
    linked = appointment_for_link(runtime.db, runtime.clock, TEST_SECRET, token)
    assert linked.appointment.status == "cancelled"


def test_a_link_expires_thirty_days_after_the_end(runtime, clinic):
    booked = book_at(runtime, clinic)
    token = manage_token_for(TEST_SECRET, booked)
    runtime.clock.advance(booked.end_date_time + MANAGE_VALID_AFTER_END - runtime.clock.now())
    with pytest.raises(NotFound) as refused:
        appointment_for_link(runtime.db, runtime.clock, TEST_SECRET, token)
    assert refused.value.reason == "manageLinkExpired"
    runtime.clock.advance(-timedelta(seconds=1))
    assert appointment_for_link(runtime.db, runtime.clock, TEST_SECRET, token)


def test_raising_the_link_version_revokes_links_given_out(runtime, clinic):
    booked = book_at(runtime, clinic)
    token = manage_token_for(TEST_SECRET, booked)
    with runtime.db.write() as session:
        session.execute(update(Appointment).values(link_version=Appointment.link_version + 1))
    with pytest.raises(NotFound) as refused:
        appointment_for_link(runtime.db, runtime.clock, TEST_SECRET, token)
    assert refused.value.reason == "manageLinkInvalid"


@pytest.mark.parametrize("token", ["", "nonsense", "a.b", "x" * 600])
def test_a_made_up_link_opens_nothing(runtime, clinic, token):
    book_at(runtime, clinic)
    with pytest.raises(NotFound) as refused:
        appointment_for_link(runtime.db, runtime.clock, TEST_SECRET, token)
    assert refused.value.reason == "manageLinkInvalid"


def test_a_genuine_token_for_an_unknown_appointment_opens_nothing(runtime, clinic):
    token = link_tokens.sign(
        TEST_SECRET,
        MANAGE,
        "no-such-appointment",
        version=0,
        expires_at=runtime.clock.now() + timedelta(days=1),
    )
    with pytest.raises(NotFound) as refused:
        appointment_for_link(runtime.db, runtime.clock, TEST_SECRET, token)
    assert refused.value.reason == "manageLinkInvalid"
