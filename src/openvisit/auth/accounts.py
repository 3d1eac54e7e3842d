"""Account maintenance: list staff users, change a password, disable a user.

A password change and disabling a user end the user's sessions at once (every copy of
their cookies); disabling also revokes the API tokens that act for them. These are what
the CLI offers, including the way back in for a locked-out first administrator
(`openvisit user set-password`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.auth import throttle
from openvisit.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password
from openvisit.auth.sessions import revoke_user_sessions
from openvisit.auth.tokens import revoke_user_tokens
from openvisit.auth.users import normalize_email
from openvisit.clock import Clock
from openvisit.errors import InvalidInput, NotFound
from openvisit.store.db import Database
from openvisit.store.models import StaffUser


@dataclass(frozen=True)
class UserListing:
    id: str
    email: str
    display_name: str
    role: str
    is_active: bool
    has_password: bool
    created: datetime


@dataclass(frozen=True)
class Revoked:
    sessions: int
    tokens: int


def list_users(db: Database) -> list[UserListing]:
    with db.read() as session:
        rows = session.scalars(
            select(StaffUser).order_by(StaffUser.created_date_time, StaffUser.id)
        ).all()
        return [
            UserListing(
                id=row.id,
                email=row.email,
                display_name=row.display_name,
                role=row.role,
                is_active=row.is_active,
                has_password=bool(row.password_hash),
                created=row.created_date_time,
            )
            for row in rows
        ]


def check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "invalidPassword",
            target="password",
            shortest=MIN_PASSWORD_LENGTH,
            longest=MAX_PASSWORD_LENGTH,
        )


def set_password(
    db: Database,
    clock: Clock,
    email: str,
    password: str,
    *,
    secret_key: str | None = None,
    actor: str = "cli",
) -> Revoked:
    """Replace a user's password and end every session they have.

    With the server's `secret_key`, the account's sign-in lock is lifted too, so this is
    the way back in for a locked-out administrator. Tokens stay: they are credentials of
    their own, not derived from the password.
    """
    check_password(password)
    password_hash = hash_password(password)  # before the transaction: it takes a while
    now = clock.now()
    with db.write() as session:
        user = _user_by_email(session, email)
        user.password_hash = password_hash
        sessions = revoke_user_sessions(session, user.id, now)
        if secret_key is not None:
            throttle.clear(session, throttle.account_key(secret_key, user.email))
        audit.record(
            session,
            Action.USER_PASSWORD_CHANGED,
            actor=actor,
            subject=user.id,
            at=now,
            data={"sessionsRevoked": sessions},
        )
        return Revoked(sessions=sessions, tokens=0)


def disable_user(db: Database, clock: Clock, email: str, *, actor: str = "cli") -> Revoked:
    """Deactivate a user: no sign-in, no session, no token acts for them any more."""
    now = clock.now()
    with db.write() as session:
        user = _user_by_email(session, email)
        user.is_active = False
        sessions = revoke_user_sessions(session, user.id, now)
        tokens = revoke_user_tokens(session, db, user.id, now)
        audit.record(
            session,
            Action.USER_DISABLED,
            actor=actor,
            subject=user.id,
            at=now,
            data={"sessionsRevoked": sessions, "tokensRevoked": tokens},
        )
        return Revoked(sessions=sessions, tokens=tokens)


def _user_by_email(session: Session, email: str) -> StaffUser:
    address = normalize_email(email)
    user = session.scalar(select(StaffUser).where(StaffUser.email == address))
    if user is None:
        raise NotFound("userNotFound", email=address)
    return user
