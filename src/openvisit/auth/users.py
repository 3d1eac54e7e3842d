"""Staff users: people who sign in, and whom a token may act for (`/me`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from openvisit.emails import InvalidEmail, normalized_email
from openvisit.errors import Conflict, InvalidInput, NotFound
from openvisit.store.db import Database
from openvisit.store.models import StaffUser

# Bookings staff roles (bookingStaffRole), in the order of what they may do.
STAFF_ROLES = ("administrator", "scheduler", "teamMember", "viewer", "externalGuest", "guest")


@dataclass(frozen=True)
class UserView:
    id: str
    email: str
    display_name: str
    role: str


def _view(user: StaffUser) -> UserView:
    return UserView(id=user.id, email=user.email, display_name=user.display_name, role=user.role)


def normalize_email(email: str) -> str:
    try:
        return normalized_email(email.strip()).lower()
    except InvalidEmail as error:
        raise InvalidInput("invalidEmail", target="email", detail=error) from error


def new_user(
    *,
    email: str,
    role: str,
    password: str | None,
    display_name: str | None,
    now: datetime,
) -> StaffUser:
    """A checked, not yet stored staff user; the password (if any) only as an argon2 hash.

    Creating one is `meetings.staff_users.create_user`: the new user may already organise
    meetings, and that sits in a layer above this one. Hashing takes a while, so it is done
    here, before the write transaction.
    """
    if role not in STAFF_ROLES:
        raise InvalidInput("invalidRole", target="role", roles=", ".join(STAFF_ROLES))
    if password is not None and not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "invalidPassword",
            target="password",
            shortest=MIN_PASSWORD_LENGTH,
            longest=MAX_PASSWORD_LENGTH,
        )
    address = normalize_email(email)
    return StaffUser(
        id=str(uuid.uuid4()),
        email=address,
        role=role,
        is_active=True,
        display_name=display_name or address.split("@")[0],
        created_date_time=now,
        password_hash=hash_password(password) if password is not None else None,
    )


def add_user(session: Session, user: StaffUser, *, actor: str) -> UserView:
    """Store a user from `new_user` inside the caller's write transaction (409 if taken)."""
    if session.scalar(select(StaffUser.id).where(StaffUser.email == user.email)):
        raise Conflict("userExists", email=user.email)
    session.add(user)
    session.flush()
    audit.record(
        session,
        Action.USER_CREATED,
        actor=actor,
        subject=user.id,
        at=user.created_date_time,
        data={"role": user.role},
    )
    return _view(user)


def authenticate(db: Database, email: str, password: str) -> UserView | None:
    """Return the user whose e-mail and password match, else None (same time either way)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    try:
        address = normalize_email(email)
    except InvalidInput:
        address = ""
    with db.read() as session:
        user = session.scalar(
            select(StaffUser).where(StaffUser.email == address, StaffUser.is_active.is_(True))
        )
    stored = user.password_hash if user is not None and user.password_hash else dummy_hash()
    if not verify_password(stored, password) or user is None or not user.password_hash:
        return None
    if needs_rehash(user.password_hash):  # hashing parameters got stronger since
        with db.write() as session:
            fresh = session.get(StaffUser, user.id)
            if fresh is not None:
                fresh.password_hash = hash_password(password)
    return _view(user)


def get_user(db: Database, user_id: str) -> UserView:
    with db.read() as session:
        user = session.get(StaffUser, user_id)
        if user is None or not user.is_active:
            raise NotFound("activeUserNotFound", user=user_id)
        return _view(user)


def find_user_by_email(db: Database, email: str) -> UserView:
    address = normalize_email(email)
    with db.read() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == address))
        if user is None:
            raise NotFound("userNotFound", email=address)
        return _view(user)


def first_administrator(db: Database) -> UserView | None:
    """The earliest active administrator: who `/me` means for a token without a user."""
    with db.read() as session:
        user = session.scalar(
            select(StaffUser)
            .where(StaffUser.role == "administrator", StaffUser.is_active.is_(True))
            .order_by(StaffUser.created_date_time, StaffUser.id)
            .limit(1)
        )
        return _view(user) if user else None
