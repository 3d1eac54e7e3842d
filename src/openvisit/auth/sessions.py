"""Staff sign-in sessions as signed cookies, and the CSRF tokens that go with them.

A session cookie is `{"uid": user id, "sid": random nonce}` signed by itsdangerous with the
server's secret key; the signer stamps the issue time into the cookie. Nothing is stored on
the server, so a session ends when the cookie expires (`max_age_seconds` after sign-in) or
the browser drops it (log-out). Any cookie that is expired, garbled, tampered with, or
signed with another key reads as "signed out"; callers never see why.

Time comes from the injected `Clock`, not from itsdangerous' own `time.time()`, so the
issue stamp and the age check agree with the rest of the server and tests can step time.

CSRF: a form token is an HMAC of a nonce the browser holds in an HttpOnly cookie. Signed in,
that nonce is the session's; on the login form (no session yet) it is a separate random
cookie (a signed double-submit cookie). A cross-site page can neither read the cookie nor
compute the HMAC without the secret key, so it cannot fill in a valid token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from openvisit.auth.users import UserView, get_user
from openvisit.clock import Clock
from openvisit.errors import NotFound
from openvisit.store.db import Database

SESSION_COOKIE = "openvisit_session"
LOGIN_CSRF_COOKIE = "openvisit_login_csrf"
_SESSION_SALT = "openvisit.staff-session"
_CSRF_PURPOSE = b"openvisit.csrf"
_NONCE_BYTES = 32
# Bounds around the 43 characters we issue: a junk cookie is refused before any hashing.
_MIN_NONCE_LENGTH = 32
_MAX_NONCE_LENGTH = 128
_NONCE_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")


@dataclass(frozen=True)
class StaffSession:
    """What a valid session cookie says: who, which sign-in, and when it was issued."""

    user_id: str
    nonce: str
    issued_at: datetime


@dataclass(frozen=True)
class SignedIn:
    """A live session whose user still exists and is active."""

    user: UserView
    session: StaffSession


class _ClockSigner(TimestampSigner):
    """A TimestampSigner that reads the server's Clock instead of `time.time()`."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


def _serializer(secret_key: str, clock: Clock) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key, salt=_SESSION_SALT, signer=_ClockSigner, signer_kwargs={"clock": clock}
    )


def new_nonce() -> str:
    """A fresh unguessable nonce (256 bits), URL- and cookie-safe."""
    return secrets.token_urlsafe(_NONCE_BYTES)


def issue_session(secret_key: str, clock: Clock, user_id: str) -> str:
    """Return the cookie value for a new session of `user_id`, stamped with `clock.now()`.

    Every sign-in gets a new nonce, so a cookie planted before sign-in (session fixation)
    never becomes a signed-in session.
    """
    return _serializer(secret_key, clock).dumps({"uid": user_id, "sid": new_nonce()})


def read_session(
    secret_key: str, clock: Clock, cookie: str | None, *, max_age_seconds: int
) -> StaffSession | None:
    """Decode a session cookie; None unless it is well-formed, untampered and unexpired.

    A cookie stamped in the future (clock moved back, or forged with the key) is refused too.
    """
    if not cookie:
        return None
    try:
        payload, issued_at = _serializer(secret_key, clock).loads(
            cookie, max_age=max_age_seconds, return_timestamp=True
        )
    except BadData:  # bad or expired signature, malformed stamp, undecodable payload
        return None
    if not isinstance(payload, dict):
        return None
    user_id, nonce = payload.get("uid"), payload.get("sid")
    if not isinstance(user_id, str) or not isinstance(nonce, str) or not user_id or not nonce:
        return None
    return StaffSession(user_id=user_id, nonce=nonce, issued_at=issued_at)


def signed_in_user(
    db: Database, secret_key: str, clock: Clock, cookie: str | None, *, max_age_seconds: int
) -> SignedIn | None:
    """The signed-in staff user for a session cookie, or None when signed out.

    A deactivated or deleted user is signed out at once, even with an unexpired cookie.
    """
    session = read_session(secret_key, clock, cookie, max_age_seconds=max_age_seconds)
    if session is None:
        return None
    try:
        user = get_user(db, session.user_id)
    except NotFound:
        return None
    return SignedIn(user=user, session=session)


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
