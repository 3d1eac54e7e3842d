"""Signing a staff user in: throttle, check the password, start a session, audit.

Every transport that checks a password calls `sign_in`, so throttling, hashing off the
request threads and the audit trail apply wherever a password is accepted. It is async:
the database steps run on the request thread pool (short), the argon2 step on the
hashing pool (`auth/hashing.py`), and the wait for a hash holds no thread.

Audit rows (`openvisit.session.*`) carry the client's address and user agent, never the
password. A failed attempt names the matched user id, or for an unknown e-mail only a
keyed digest of what was typed (`emailDigest`), never the address itself. Attempts refused
by the throttle are not written one by one (a flood would turn into a write flood);
the moment a key's lock begins is (`openvisit.session.sign_in_locked`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import select, update

from openvisit import audit
from openvisit.addresses import Client
from openvisit.audit.actions import Action
from openvisit.auth import throttle
from openvisit.auth.hashing import PasswordHashing
from openvisit.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from openvisit.auth.sessions import StaffSession, start_session
from openvisit.auth.users import UserView, normalize_email
from openvisit.clock import Clock
from openvisit.errors import InvalidInput, TooManyRequests, Unauthenticated
from openvisit.store.db import Database
from openvisit.store.models import StaffUser


class WrongCredentials(Unauthenticated):
    """Unknown e-mail or wrong password (one error, so nothing reveals which)."""


class SignInThrottled(TooManyRequests):
    """Too many recent failures for this account or this address."""

    def __init__(self, until: datetime, now: datetime) -> None:
        seconds = throttle.retry_after_seconds(until, now)
        super().__init__(
            "signInThrottled",
            retry_after_seconds=seconds,
            until=f"{until:%H:%M:%S}",
            wait=_duration(seconds),
        )
        self.until = until


@dataclass(frozen=True)
class SignInRequest:
    email: str
    password: str
    client: Client


@dataclass(frozen=True)
class SignInContext:
    """What signing in needs from the running server."""

    db: Database
    clock: Clock
    hashing: PasswordHashing
    secret_key: str
    session_max_age_seconds: int


@dataclass(frozen=True)
class SignedInResult:
    user: UserView
    session: StaffSession

    @property
    def cookie(self) -> str:
        return self.session.nonce


@dataclass(frozen=True)
class _Candidate:
    user: UserView | None
    password_hash: str


async def sign_in(context: SignInContext, request: SignInRequest) -> SignedInResult:
    """Start a session for the user whose e-mail and password match.

    Raises SignInThrottled (429) while the account or the address must wait, HashingBusy
    (503) when the hashing queue is full, WrongCredentials (401) on a mismatch.
    """
    # A full hashing queue refuses first: a flood then costs no database read per attempt.
    context.hashing.check_room()
    keys = throttle.keys_for(context.secret_key, request.email, request.client.address)
    candidate = await anyio.to_thread.run_sync(_check_and_load, context, keys, request.email)
    matched = False
    if len(request.password) <= MAX_PASSWORD_LENGTH:
        matched = await context.hashing.run(
            verify_password, candidate.password_hash, request.password
        )
    user = candidate.user
    if not matched or user is None:
        await anyio.to_thread.run_sync(_record_failure, context, keys, request, user)
        raise WrongCredentials("wrongCredentials")
    fresh_hash = None
    if needs_rehash(candidate.password_hash):  # hashing parameters got stronger since
        fresh_hash = await context.hashing.run(hash_password, request.password)
    session = await anyio.to_thread.run_sync(
        _record_success, context, keys, request, user, fresh_hash
    )
    return SignedInResult(user=user, session=session)


def _check_and_load(
    context: SignInContext, keys: list[throttle.ThrottleKey], email: str
) -> _Candidate:
    now = context.clock.now()
    until = throttle.blocked_until(context.db, now, keys)
    if until is not None:
        raise SignInThrottled(until, now)
    try:
        address = normalize_email(email)
    except InvalidInput:
        address = ""
    with context.db.read() as session:
        user = session.scalar(
            select(StaffUser).where(StaffUser.email == address, StaffUser.is_active.is_(True))
        )
    if user is None or not user.password_hash:
        return _Candidate(user=None, password_hash=dummy_hash())
    view = UserView(id=user.id, email=user.email, display_name=user.display_name, role=user.role)
    return _Candidate(user=view, password_hash=user.password_hash)


def _client_data(client: Client) -> dict[str, Any]:
    return {"address": client.address, "userAgent": client.user_agent}


def _record_failure(
    context: SignInContext,
    keys: list[throttle.ThrottleKey],
    request: SignInRequest,
    user: UserView | None,
) -> None:
    now = context.clock.now()
    data = _client_data(request.client)
    data["emailDigest"] = throttle.account_digest(context.secret_key, request.email)
    if user is not None:
        data["userId"] = user.id
    with context.db.write() as session:
        locks = throttle.record_failure(session, now, keys)
        audit.record(
            session,
            Action.SESSION_SIGN_IN_FAILED,
            actor="anonymous",
            subject=user.id if user is not None else "unknown",
            at=now,
            data=data,
        )
        for key, until in locks:
            audit.record(
                session,
                Action.SESSION_SIGN_IN_LOCKED,
                actor="system",
                subject=key.key,
                at=now,
                data={**data, "key": key.key, "until": until.isoformat()},
            )


def _record_success(
    context: SignInContext,
    keys: list[throttle.ThrottleKey],
    request: SignInRequest,
    user: UserView,
    fresh_hash: str | None,
) -> StaffSession:
    now = context.clock.now()
    with context.db.write() as session:
        throttle.clear(session, keys[0])  # the account key; the address keeps its count
        if fresh_hash is not None:
            session.execute(
                update(StaffUser).where(StaffUser.id == user.id).values(password_hash=fresh_hash)
            )
        staff_session = start_session(
            session,
            now,
            user.id,
            max_age_seconds=context.session_max_age_seconds,
            client=request.client,
        )
        audit.record(
            session,
            Action.SESSION_SIGNED_IN,
            actor=f"user:{user.id}",
            subject=user.id,
            at=now,
            data={"sessionId": staff_session.id, **_client_data(request.client)},
        )
    return staff_session


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
