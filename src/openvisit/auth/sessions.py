"""Staff sign-in sessions kept on the server, and the CSRF tokens that go with them.

The session cookie holds a random secret (256 bits). The server keeps one row per sign-in
(`staff_sessions`) with the secret's SHA-256 digest, the user, when it started, was last
seen and ends, the client's address and user agent, and when it was revoked. A cookie
counts only while its row is unrevoked, unexpired and its user active, so log-out,
a password change, disabling the user or `openvisit session revoke` end it at once,
including every copy of the cookie. A digest is enough (not argon2): the secret is
random, so there is nothing to guess, and every page view checks it.

Time comes from the injected `Clock`, so expiry agrees with the rest of the server and
tests can step time. A session lasts a fixed time from sign-in (not a sliding window).

CSRF: a form token is an HMAC of a nonce the browser holds in an HttpOnly cookie. Signed in,
that nonce is the session secret; on the login form (no session yet) it is a separate random
cookie (a signed double-submit cookie). A cross-site page can neither read the cookie nor
compute the HMAC without the secret key, so it cannot fill in a valid token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.addresses import Client
from openvisit.audit.actions import Action
from openvisit.auth.users import UserView
from openvisit.clock import Clock
from openvisit.errors import NotFound
from openvisit.store.db import Database
from openvisit.store.models import StaffSignInSession, StaffUser

SESSION_COOKIE = "openvisit_session"
LOGIN_CSRF_COOKIE = "openvisit_login_csrf"
_CSRF_PURPOSE = b"openvisit.csrf"
_NONCE_BYTES = 32
# Bounds around the 43 characters we issue: a junk cookie is refused before any lookup.
_MIN_NONCE_LENGTH = 32
_MAX_NONCE_LENGTH = 128
_NONCE_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")
# Writing "last seen" on every page view would turn reads into writes; once a minute is plenty.
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


@dataclass(frozen=True)
class StaffSession:
    """A live sign-in: its public id, whose it is, the cookie secret (the CSRF nonce)."""

    id: str
    user_id: str
    nonce: str
    created: datetime
    expires: datetime


@dataclass(frozen=True)
class SignedIn:
    """A live session whose user still exists and is active."""

    user: UserView
    session: StaffSession


@dataclass(frozen=True)
class SessionInfo:
    """A session as `openvisit session list` shows it (never the secret)."""

    id: str
    user_id: str
    user_email: str
    created: datetime
    last_seen: datetime
    expires: datetime
    client_address: str | None
    user_agent: str | None
    revoked: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked is not None:
            return "revoked"
        return "active" if now <= self.expires else "expired"


def new_nonce() -> str:
    """A fresh unguessable nonce (256 bits), URL- and cookie-safe."""
    return secrets.token_urlsafe(_NONCE_BYTES)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(
    session: Session, now: datetime, user_id: str, *, max_age_seconds: int, client: Client
) -> StaffSession:
    """Add a session row inside the caller's transaction; the result's nonce is the cookie.

    Every sign-in gets a new secret, so a cookie planted before sign-in (session fixation)
    never becomes a signed-in session. Rows past their end are pruned here, which keeps the
    table as small as the set of live sessions.
    """
    session.execute(delete(StaffSignInSession).where(StaffSignInSession.expires_date_time < now))
    secret = new_nonce()
    row = StaffSignInSession(
        id=str(uuid.uuid4()),
        token_digest=_digest(secret),
        user_id=user_id,
        created_date_time=now,
        last_seen_date_time=now,
        expires_date_time=now + timedelta(seconds=max_age_seconds),
        client_address=client.address,
        user_agent=client.user_agent,
    )
    session.add(row)
    return StaffSession(
        id=row.id,
        user_id=user_id,
        nonce=secret,
        created=row.created_date_time,
        expires=row.expires_date_time,
    )


def signed_in_user(db: Database, clock: Clock, cookie: str | None) -> SignedIn | None:
    """The signed-in staff user for a session cookie, or None when signed out.

    Signed out means: no such session, revoked, expired, started in the future (the clock
    moved back), or its user deactivated or deleted. Callers never see which.
    """
    if not cookie or not _is_plausible_nonce(cookie):
        return None
    now = clock.now()
    with db.read() as session:
        found = session.execute(
            select(StaffSignInSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSignInSession.user_id)
            .where(StaffSignInSession.token_digest == _digest(cookie))
        ).first()
    if found is None:
        return None
    row, user = found
    if (
        row.revoked_date_time is not None
        or not row.created_date_time <= now <= row.expires_date_time
        or not user.is_active
    ):
        return None
    if now - row.last_seen_date_time >= LAST_SEEN_GRANULARITY:
        with db.write() as session:
            session.execute(
                update(StaffSignInSession)
                .where(StaffSignInSession.id == row.id)
                .values(last_seen_date_time=now)
            )
    view = UserView(id=user.id, email=user.email, display_name=user.display_name, role=user.role)
    staff_session = StaffSession(
        id=row.id,
        user_id=user.id,
        nonce=cookie,
        created=row.created_date_time,
        expires=row.expires_date_time,
    )
    return SignedIn(user=view, session=staff_session)


def sign_out(db: Database, clock: Clock, signed_in: SignedIn, client: Client) -> None:
    """End this session on the server (every copy of its cookie) and audit the log-out."""
    now = clock.now()
    with db.write() as session:
        session.execute(
            update(StaffSignInSession)
            .where(
                StaffSignInSession.id == signed_in.session.id,
                StaffSignInSession.revoked_date_time.is_(None),
            )
            .values(revoked_date_time=now)
        )
        audit.record(
            session,
            Action.SESSION_SIGNED_OUT,
            actor=f"user:{signed_in.user.id}",
            subject=signed_in.user.id,
            at=now,
            data={
                "sessionId": signed_in.session.id,
                "address": client.address,
                "userAgent": client.user_agent,
            },
        )


def revoke_user_sessions(session: Session, user_id: str, now: datetime) -> int:
    """Revoke every unrevoked session of `user_id` inside the caller's transaction.

    Expired ones too: the CLI's clock and a server's may disagree, and revoking is final.
    """
    result = session.execute(
        update(StaffSignInSession)
        .where(
            StaffSignInSession.user_id == user_id,
            StaffSignInSession.revoked_date_time.is_(None),
        )
        .values(revoked_date_time=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def revoke_session(db: Database, clock: Clock, session_id: str, *, actor: str = "cli") -> None:
    """Revoke one session by its public id; revoking it again changes nothing."""
    now = clock.now()
    with db.write() as session:
        row = session.get(StaffSignInSession, session_id)
        if row is None:
            raise NotFound("sessionNotFound", session=session_id)
        if row.revoked_date_time is None:
            row.revoked_date_time = now
            audit.record(
                session,
                Action.SESSION_REVOKED,
                actor=actor,
                subject=row.user_id,
                at=now,
                data={"sessionId": session_id},
            )


def revoke_sessions_of(db: Database, clock: Clock, user_id: str, *, actor: str = "cli") -> int:
    """Revoke every live session of one user; the number revoked."""
    now = clock.now()
    with db.write() as session:
        count = revoke_user_sessions(session, user_id, now)
        audit.record(
            session,
            Action.SESSION_REVOKED,
            actor=actor,
            subject=user_id,
            at=now,
            data={"allSessions": True, "count": count},
        )
        return count


def list_sessions(
    db: Database, clock: Clock, *, user_id: str | None = None, include_ended: bool = False
) -> list[SessionInfo]:
    """Sessions, oldest first: live ones only unless `include_ended`."""
    now = clock.now()
    query = select(StaffSignInSession, StaffUser.email).join(
        StaffUser, StaffUser.id == StaffSignInSession.user_id
    )
    if user_id is not None:
        query = query.where(StaffSignInSession.user_id == user_id)
    if not include_ended:
        query = query.where(
            StaffSignInSession.revoked_date_time.is_(None),
            StaffSignInSession.expires_date_time >= now,
        )
    query = query.order_by(StaffSignInSession.created_date_time, StaffSignInSession.id)
    with db.read() as session:
        return [
            SessionInfo(
                id=row.id,
                user_id=row.user_id,
                user_email=email,
                created=row.created_date_time,
                last_seen=row.last_seen_date_time,
                expires=row.expires_date_time,
                client_address=row.client_address,
                user_agent=row.user_agent,
                revoked=row.revoked_date_time,
            )
            for row, email in session.execute(query).all()
        ]


def csrf_token(secret_key: str, nonce: str) -> str:
    """The CSRF token a form carries for a browser holding `nonce` in a cookie."""
    key = hmac.new(secret_key.encode("utf-8"), _CSRF_PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, nonce.encode("utf-8"), hashlib.sha256).hexdigest()


def check_csrf(secret_key: str, nonce: str | None, submitted: str | None) -> bool:
    """True when `submitted` is the CSRF token for `nonce`; constant-time comparison."""
    if not nonce or not submitted or not _is_plausible_nonce(nonce):
        return False
    expected = csrf_token(secret_key, nonce)
    return hmac.compare_digest(expected.encode("ascii"), submitted.encode("utf-8"))


def login_nonce(existing: str | None) -> str:
    """The nonce for a login form's CSRF cookie: the browser's current one if plausible.

    Reusing it keeps two open login tabs both valid; a missing or junk value gets a new one.
    """
    if existing is not None and _is_plausible_nonce(existing):
        return existing
    return new_nonce()


def _is_plausible_nonce(value: str) -> bool:
    return _MIN_NONCE_LENGTH <= len(value) <= _MAX_NONCE_LENGTH and set(value) <= _NONCE_ALPHABET
