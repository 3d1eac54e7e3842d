"""Planning decides who hears what from plain values: no database, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from openvisit.notify import planning
from openvisit.notify.planning import Situation, StaffContact

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
START = NOW + timedelta(days=3)


BASE = Situation(
    appointment_id="a1",
    start=START,
    end=START + timedelta(minutes=30),
    sequence=2,
    customers=[{"name": "Ann", "emailAddress": "Ann@Example.test", "phone": "0151 23456789"}],
    details={},
    staff=[StaffContact("s1", "Dr. Bob", "bob@example.test", True)],
    service_reminders=[],
    service_sms_enabled=True,
    customer_language=None,
    service_language=None,
    business_language="de-DE",
    business_country="DE",
)


def situation(**changes: Any) -> Situation:
    return replace(BASE, **changes)


def test_a_local_number_is_read_in_the_business_country():
    assert planning.e164("0151 23456789", "DE") == "+4915123456789"
    assert planning.e164("+1 212 555 0147", "DE") == "+12125550147"
    assert planning.e164("(212) 555-0147", None) == "+12125550147"
    assert planning.e164("0151 23456789", "Germany") == "+4915123456789"
    assert planning.e164("(212) 555-0147", "Atlantis") == "+12125550147"
    assert planning.e164("12", "DE") is None
    assert planning.e164("030 1234567", "DE") is None  # a fixed line takes no texts
    assert planning.e164("", "DE") is None
    assert planning.e164(None, "DE") is None


def test_sms_needs_the_service_and_the_customer_or_appointment_to_allow_it():
    flagged = [{"name": "Ann", "phone": "0151 23456789", "smsNotificationsEnabled": True}]
    assert [r.channel for r in planning.customer_recipients(situation(customers=flagged))] == [
        "sms"
    ]
    off = situation(customers=flagged, service_sms_enabled=False)
    assert planning.customer_recipients(off) == []
    by_appointment = situation(details={"smsNotificationsEnabled": True})
    assert sorted(r.channel for r in planning.customer_recipients(by_appointment)) == [
        "email",
        "sms",
    ]
    refused = [{"phone": "0151 23456789", "smsNotificationsEnabled": False}]
    assert (
        planning.customer_recipients(
            situation(customers=refused, details={"smsNotificationsEnabled": True})
        )
        == []
    )


def test_one_address_hears_once_even_when_two_customers_share_it():
    shared = [{"emailAddress": "a@example.test"}, {"emailAddress": "A@example.test"}]
    assert len(planning.customer_recipients(situation(customers=shared))) == 1


def test_identical_reminders_count_once_and_unknown_recipients_are_skipped():
    day = {"offset": "P1D", "recipients": "customer", "message": "Tomorrow"}
    found = planning.reminders_of(
        situation(
            service_reminders=[
                day,
                {"offset": "PT2H", "recipients": "unknownFutureValue", "message": ""},
            ],
            details={"reminders": [day, {**day, "message": "Other"}]},
        )
    )
    assert [(r.offset, r.message) for r in found] == [
        (timedelta(days=1), "Tomorrow"),
        (timedelta(days=1), "Other"),
    ]


def test_keys_name_the_appointment_kind_sequence_channel_and_recipient():
    planned = planning.booked(
        situation(
            service_reminders=[{"offset": "PT1H", "recipients": "allAttendees", "message": ""}]
        ),
        NOW,
    )
    keys = sorted(item.idempotency_key for item in planned)
    assert "a1:confirmation:2:email:ann@example.test" in keys
    assert "a1:staffBooked:2:email:bob@example.test" in keys
    reminder_keys = [key for key in keys if ":reminder:" in key]
    assert len(reminder_keys) == 2 and all("@2:" in key for key in reminder_keys)
    assert len(set(keys)) == len(keys)
    languages = {item.kind: item.language for item in planned if item.kind != "reminder"}
    assert languages == {"confirmation": "de", "staffBooked": "de"}


def test_a_disabled_or_addressless_provider_hears_nothing():
    staff = [
        StaffContact("s1", "Dr. Bob", "bob@example.test", False),
        StaffContact("s2", "Dr. Eve", None, True),
    ]
    assert planning.staff_recipients(situation(staff=staff)) == []
