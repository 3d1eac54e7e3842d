from openvisit.bookings import records
from openvisit.bookings.businesses import get_business
from openvisit.bookings.services import SERVICES
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.demo import is_empty, seed_demo
from openvisit.listing import ListQuery


def test_demo_business_matches_what_the_readme_promises(runtime):
    assert is_empty(runtime.db)

    result = seed_demo(runtime.db, runtime.clock, id_domain="openvisit.local")

    business = get_business(runtime.db, result.business_id)
    staff = records.list_records(
        runtime.db, STAFF_MEMBERS, business.id, ListQuery(), page_size=50
    ).items
    services = {
        s.display_name: s
        for s in records.list_records(
            runtime.db, SERVICES, business.id, ListQuery(), page_size=50
        ).items
    }
    assert business.is_published
    assert business.booking_page_settings == {"businessTimeZone": "America/New_York"}
    assert len(staff) == 3
    assert (
        len({str(member.working_hours) + str(member.use_business_hours) for member in staff}) == 3
    )
    visit = services["Online visit"]
    assert (
        visit.default_duration_seconds,
        visit.pre_buffer_seconds,
        visit.post_buffer_seconds,
    ) == (1800, 600, 600)
    assert services["Consultation"].default_duration_seconds == 3600
    assert services["Group wellness session"].maximum_attendees_count == 5
    assert not is_empty(runtime.db)
