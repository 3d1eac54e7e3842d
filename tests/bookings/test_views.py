"""Services hand back frozen snapshots: a caller cannot change one and believe it stored."""

from dataclasses import FrozenInstanceError

import pytest

from openvisit.bookings import appointments, businesses, records
from openvisit.bookings.customers import CUSTOMERS
from openvisit.bookings.questions import CUSTOM_QUESTIONS
from openvisit.bookings.services import SERVICES
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.listing import ListQuery
from tests.bookings.clinic import book_at
from tests.factories import make_business


def test_a_business_refuses_changes_that_would_never_be_stored(runtime):
    business_id = make_business(runtime, business_hours=[{"day": "monday", "timeSlots": []}])
    business = businesses.get_business(runtime.db, business_id)

    with pytest.raises(FrozenInstanceError):
        business.display_name = "Renamed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        business.business_hours.append({"day": "sunday", "timeSlots": []})  # type: ignore[attr-defined]
    assert businesses.get_business(runtime.db, business_id).display_name == "Contoso Health"


def test_a_business_is_a_value_that_an_update_replaces(runtime):
    business_id = make_business(runtime)
    before = businesses.get_business(runtime.db, business_id)

    after = businesses.update_business(
        runtime.db, runtime.clock, business_id, {"display_name": "Fabrikam"}, actor="test"
    )

    assert before.display_name == "Contoso Health"
    assert after.display_name == "Fabrikam"
    assert businesses.get_business(runtime.db, business_id) == after


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        (SERVICES, {"display_name": "Visit", "default_duration_seconds": 1800}),
        (STAFF_MEMBERS, {"display_name": "Dr. Osei", "role": "administrator"}),
        (CUSTOMERS, {"display_name": "Jordan Lee"}),
        (CUSTOM_QUESTIONS, {"display_name": "Why?"}),
    ],
    ids=lambda value: getattr(value, "label", ""),
)
def test_a_record_in_a_business_is_handed_back_whole_and_read_only(runtime, kind, values):
    business_id = make_business(runtime)

    created = records.create_record(runtime.db, runtime.clock, kind, business_id, values, actor="t")
    listed = records.list_records(runtime.db, kind, business_id, ListQuery(), page_size=10).items

    # Created with only some columns: the copy was taken after the defaults were applied.
    assert listed == (created,)
    assert records.get_record(runtime.db, kind, business_id, created.id) == created
    with pytest.raises(FrozenInstanceError):
        created.display_name = "Renamed"


def test_a_booked_appointment_is_the_value_a_later_read_returns(runtime, clinic):
    booked = book_at(runtime, clinic)

    read = appointments.get_appointment(runtime.db, clinic["business"], booked.id)

    assert read == booked
    with pytest.raises(FrozenInstanceError):
        read.status = "cancelled"  # type: ignore[misc]
