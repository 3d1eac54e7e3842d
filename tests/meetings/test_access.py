"""Who gets into a meeting: the consumer's link, staff on the appointment, nobody else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from openvisit.join_links import JOIN_VALID_AFTER_END, join_token
from openvisit.meetings.access import JoinRefused, check_join_link, check_staff_access
from openvisit.meetings.staff_users import create_user
from openvisit.runtime import Runtime
from openvisit.store.models import OnlineMeeting
from tests.factories import make_staff
from tests.visits import make_visit


def refusal(runtime: Runtime, token: str) -> str:
    with pytest.raises(JoinRefused) as caught:
        check_join_link(
            runtime.db, secret_key=runtime.secret_key, token=token, now=runtime.clock.now()
        )
    return caught.value.reason


def test_the_consumer_link_lets_the_consumer_in(runtime: Runtime) -> None:
    visit = make_visit(runtime)
    entrant = check_join_link(
        runtime.db,
        secret_key=runtime.secret_key,
        token=visit.consumer_token,
        now=runtime.clock.now(),
    )
    assert (entrant.role, entrant.participant_key, entrant.display_name) == (
        "consumer",
        "consumer",
        "Jordan Lee",
    )
    assert entrant.meeting.id == visit.meeting_id
    assert entrant.meeting.business_time_zone == "America/New_York"
    assert entrant.meeting.subject == "Visit"


def test_tampered_expired_revoked_and_cancelled_links_are_refused(runtime: Runtime) -> None:
    visit = make_visit(runtime)
    assert refusal(runtime, visit.consumer_token[:-2] + "AA") == "invalid"
    assert (
        refusal(
            runtime,
            join_token(
                "x" * 32, visit.meeting_id, role="consumer", version=0, end=runtime.clock.now()
            ),
        )
        == "invalid"
    )
    assert (
        refusal(
            runtime,
            join_token(
                runtime.secret_key,
                "no-such-meeting",
                role="consumer",
                version=0,
                end=runtime.clock.now() + timedelta(days=1),
            ),
        )
        == "invalid"
    )
    with runtime.db.write() as session:
        end = session.get(OnlineMeeting, visit.meeting_id).end_date_time  # type: ignore[union-attr]
    runtime.clock.advance(end + JOIN_VALID_AFTER_END - runtime.clock.now())  # type: ignore[attr-defined]
    assert refusal(runtime, visit.consumer_token) == "expired"


def test_raising_the_link_version_revokes_and_cancelling_closes(runtime: Runtime) -> None:
    visit = make_visit(runtime)
    with runtime.db.write() as session:
        session.execute(update(OnlineMeeting).values(link_version=OnlineMeeting.link_version + 1))
    assert refusal(runtime, visit.consumer_token) == "revoked"
    fresh = join_token(
        runtime.secret_key,
        visit.meeting_id,
        role="consumer",
        version=1,
        end=runtime.clock.now() + timedelta(days=2),
    )
    with runtime.db.write() as session:
        session.execute(update(OnlineMeeting).values(status="cancelled"))
    assert refusal(runtime, fresh) == "cancelled"


def test_staff_on_the_appointment_or_the_front_desk_get_in_and_nobody_else(
    runtime: Runtime,
) -> None:
    visit = make_visit(runtime)
    entrant = check_staff_access(runtime.db, user=visit.provider, meeting_id=visit.meeting_id)
    assert (entrant.role, entrant.participant_key) == ("provider", f"staff:{visit.provider.id}")
    # Dr. Bob is a member but not on this appointment, and only a team member.
    make_staff(runtime, visit.clinic["business"], "Dr. Carl", role="teamMember")
    carl = create_user(
        runtime.db,
        runtime.clock,
        email="carl@example.test",
        role="teamMember",
        password=None,
        actor="test",
    )
    with pytest.raises(JoinRefused) as caught:
        check_staff_access(runtime.db, user=carl, meeting_id=visit.meeting_id)
    assert caught.value.reason == "notYours"
    make_staff(runtime, visit.clinic["business"], "Desk Dana", role="scheduler")
    dana = create_user(
        runtime.db,
        runtime.clock,
        email="dana@example.test",
        role="teamMember",
        password=None,
        actor="test",
    )
    assert check_staff_access(runtime.db, user=dana, meeting_id=visit.meeting_id).role == "provider"
    stranger = create_user(
        runtime.db,
        runtime.clock,
        email="eve@example.test",
        role="teamMember",
        password=None,
        actor="test",
    )
    with pytest.raises(JoinRefused):
        check_staff_access(runtime.db, user=stranger, meeting_id=visit.meeting_id)
    with pytest.raises(JoinRefused):
        check_staff_access(runtime.db, user=visit.provider, meeting_id="nope\x00")


def test_a_cancelled_appointment_refuses_staff_too(runtime: Runtime) -> None:
    visit = make_visit(runtime)
    with runtime.db.write() as session:
        session.execute(update(OnlineMeeting).values(status="cancelled"))
    with pytest.raises(JoinRefused) as caught:
        check_staff_access(runtime.db, user=visit.provider, meeting_id=visit.meeting_id)
    assert caught.value.reason == "cancelled"
