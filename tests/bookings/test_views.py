"""Services hand back frozen snapshots: a caller cannot change one and believe it stored."""

from dataclasses import FrozenInstanceError

import pytest

from openvisit.bookings import businesses
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
