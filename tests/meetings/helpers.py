"""Staff users and tokens for the online meeting tests."""

from __future__ import annotations

from openvisit.auth.tokens import create_token
from openvisit.auth.users import UserView
from openvisit.meetings.staff_users import create_user
from openvisit.runtime import Runtime
from tests.bookings.clinic import Clinic
from tests.factories import make_service

MEETINGS_SCOPES = (
    "OnlineMeetings.ReadWrite VirtualAppointmentNotification.Send OnlineMeetingArtifact.Read.All"
)


def make_user(
    runtime: Runtime, email: str = "osei@example.test", name: str = "Dr. Osei", role: str = "viewer"
) -> UserView:
    return create_user(
        runtime.db, runtime.clock, email=email, role=role, password=None, display_name=name
    )


def user_token(runtime: Runtime, user: UserView, scopes: str = MEETINGS_SCOPES) -> dict[str, str]:
    _info, secret = create_token(
        runtime.db, runtime.clock, name="t", scopes=scopes, user_email=user.email
    )
    return {"Authorization": f"Bearer {secret}"}


def app_token(runtime: Runtime, scopes: str) -> dict[str, str]:
    _info, secret = create_token(runtime.db, runtime.clock, name="app", scopes=scopes)
    return {"Authorization": f"Bearer {secret}"}


def add_online_service(
    runtime: Runtime, clinic: Clinic, staff: tuple[str, ...] = ("ann", "bob")
) -> str:
    """The clinic's "Video visit": held online, by these of its doctors."""
    clinic["online"] = make_service(
        runtime,
        clinic["business"],
        "Video visit",
        is_location_online=True,
        staff_member_ids=[clinic[name] for name in staff],
    )
    return clinic["online"]
