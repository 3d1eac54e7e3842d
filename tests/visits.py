"""A booked online visit for tests of the lobby, the call and the pages.

`make_visit` books an online appointment through the booking service (New York clinic of
tests/bookings), which gives it its online meeting; it signs a consumer join link and
signs in the provider (Dr. Ann, whose staff e-mail the staff user shares), so a test can
open both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openvisit.addresses import Client
from openvisit.auth.sessions import start_session
from openvisit.auth.users import UserView
from openvisit.join_links import join_token
from openvisit.meetings import server_leases, visits
from openvisit.meetings.access import Entrant
from openvisit.meetings.appointment_meetings import meeting_of
from openvisit.meetings.publishing import Publish
from openvisit.meetings.staff_users import create_user
from openvisit.meetings.visits import Presence
from openvisit.runtime import Runtime
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
        details={"isLocationOnline": True},
    )
    meeting_id = _meeting_of(runtime, appointment.id)
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


def _meeting_of(runtime: Runtime, appointment_id: str) -> str:
    """The meeting the booking gave the online appointment, in the same transaction."""
    with runtime.db.read() as session:
        meeting = meeting_of(session, appointment_id)
        assert meeting is not None, "an online appointment has its meeting"
        return meeting.id


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


def enter(
    runtime: Runtime, publish: Publish, entrant: Entrant, connection_id: str, **options: Any
) -> Presence:
    """`visits.enter` as a server process calls it: under a live lease (here one of its
    own, taken at that moment, as if each connection came to a fresh process)."""
    server = server_leases.register(runtime.db, runtime.clock)
    return visits.enter(
        runtime.db,
        runtime.clock,
        publish,
        entrant,
        connection_id,
        server_instance_id=server,
        **options,
    )
