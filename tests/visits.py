"""A booked online visit for tests of the lobby, the call and the pages.

`make_visit` books through the booking service (New York clinic of tests/bookings), gives
it its online meeting, signs a consumer join link, and signs in the provider (Dr. Ann,
whose staff e-mail the staff user shares), so a test can open both sides.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from openvisit.addresses import Client
from openvisit.auth.sessions import start_session
from openvisit.auth.users import UserView, create_user
from openvisit.join_links import join_token
from openvisit.runtime import Runtime
from openvisit.store.models import OnlineMeeting
from tests.bookings.clinic import TUESDAY_10, Clinic, book_at, make_clinic


@dataclass(frozen=True)
class Visit:
    clinic: Clinic
    appointment_id: str
    meeting_id: str
    consumer_token: str
    provider: UserView
    provider_cookie: str  # the openvisit_session cookie of the provider's sign-in


def make_visit(
    runtime: Runtime, *, start: datetime = TUESDAY_10, clinic: Clinic | None = None
) -> Visit:
    clinic = clinic or make_clinic(runtime)
    appointment = book_at(
        runtime,
        clinic,
        start,
        customers=({"name": "Jordan Lee", "emailAddress": "jordan@example.test"},),
    )
    meeting_id = _give_meeting(
        runtime,
        clinic["business"],
        appointment.id,
        appointment.start_date_time,
        appointment.end_date_time,
    )
    token = join_token(
        runtime.secret_key, meeting_id, role="consumer", version=0, end=appointment.end_date_time
    )
    provider = _provider(runtime)
    with runtime.db.write() as session:
        signed_in = start_session(
            session,
            runtime.clock.now(),
            provider.id,
            max_age_seconds=runtime.session_max_age_seconds,
            client=Client(address="127.0.0.1", user_agent="tests"),
        )
    return Visit(clinic, appointment.id, meeting_id, token, provider, signed_in.nonce)


def _give_meeting(
    runtime: Runtime, business_id: str, appointment_id: str, start: datetime, end: datetime
) -> str:
    # Until bookings make the meeting of an online appointment themselves (issue 10, the
    # online meetings branch), the visit's meeting is written here.
    meeting_id = str(uuid.uuid4())
    with runtime.db.write() as session:
        session.add(
            OnlineMeeting(
                id=meeting_id,
                business_id=business_id,
                appointment_id=appointment_id,
                start_date_time=start,
                end_date_time=end,
                created_date_time=runtime.clock.now(),
                properties={},
            )
        )
    return meeting_id


def _provider(runtime: Runtime) -> UserView:
    return create_user(
        runtime.db,
        runtime.clock,
        email="ann@example.test",
        role="teamMember",
        password=None,
        display_name="Dr. Ann",
        actor="test",
    )
