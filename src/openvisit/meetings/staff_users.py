"""Creating a staff user: the user's row and the meetings they organise from now on.

An office manager often adds a provider's sign-in after the provider's appointments are
booked; their online meetings were made with no organizer, since no user had the e-mail
then. The user is stored and given those meetings in one transaction, so /me/onlineMeetings
shows them at once and never half. It lives in meetings/, not auth/: auth sits below
meetings (pyproject.toml's layers), and auth keeps the checks and the row (`new_user`,
`add_user`) while this owns the transaction.
"""

from __future__ import annotations

from openvisit.auth.users import UserView, add_user, new_user
from openvisit.clock import Clock
from openvisit.meetings import appointment_meetings
from openvisit.store.db import Database


def create_user(
    db: Database,
    clock: Clock,
    *,
    email: str,
    role: str,
    password: str | None,
    display_name: str | None = None,
    actor: str = "cli",
) -> UserView:
    """Create a staff user (409 if the e-mail is taken) who organises their providers'
    meetings that had no organizer."""
    now = clock.now()
    user = new_user(email=email, role=role, password=password, display_name=display_name, now=now)
    with db.write() as session:
        view = add_user(session, user, actor=actor)
        appointment_meetings.adopt_for_email(session, view.email, actor=actor, now=now)
        return view
