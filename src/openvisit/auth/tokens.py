"""API bearer tokens: random secrets shown once, stored as SHA-256 digests.

A token carries 256 bits of randomness, so a fast digest is enough: there is nothing to
brute-force, and verifying a request must not cost an argon2 round.

A verified token is remembered for TOKEN_CACHE_SECONDS (by the injected clock), so a
busy client does not cost a database read on every request. Revoking a token forgets it
at once in the process that revoked it; elsewhere (a running server when the CLI
revokes, another worker) the token stops working within TOKEN_CACHE_SECONDS.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.auth.scopes import parse_scopes
from openvisit.auth.users import first_administrator, get_user, normalize_email
from openvisit.clock import Clock
from openvisit.errors import InvalidInput, NotFound, Unauthenticated
from openvisit.store.db import Database
from openvisit.store.models import ApiToken, StaffUser

TOKEN_PREFIX = "ovt_"  # noqa: S105 - a public marker, not a secret
# Touching last_used on every request would turn reads into writes; once a minute is plenty.
LAST_USED_GRANULARITY_SECONDS = 60
TOKEN_CACHE_SECONDS = 5
# Enough for every token a deployment hands out; past it the cache starts over.
TOKEN_CACHE_ENTRIES = 10_000


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token, its scopes, and the staff user `/me` stands for."""

    token_id: str
    token_name: str
    scopes: frozenset[str]
    user_id: str | None
    # The user's e-mail and server-wide role, read with the token (and remembered with
    # it), so the role check costs no extra read for the user itself.
    user_email: str | None = None
    user_role: str | None = None

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}"


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    user_email: str | None
    created: datetime
    last_used: datetime | None
    revoked: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# Per database: token digest -> (principal, when it was read from the database).
_verified: weakref.WeakKeyDictionary[Database, dict[str, tuple[Principal, datetime]]] = (
    weakref.WeakKeyDictionary()
)


def cached_principal(db: Database, clock: Clock, secret: str) -> Principal | None:
    """The principal of a token verified less than TOKEN_CACHE_SECONDS ago, else None.

    Touches no database, so the API calls it on the event loop before going to a thread.
    """
    entry = _verified.get(db, {}).get(_digest(secret))
    if entry is None:
        return None
    principal, read_at = entry
    if clock.now() - read_at >= timedelta(seconds=TOKEN_CACHE_SECONDS):
        return None
    return principal


def _remember(db: Database, digest: str, principal: Principal, now: datetime) -> None:
    entries = _verified.setdefault(db, {})
    if len(entries) >= TOKEN_CACHE_ENTRIES:
        entries.clear()
    entries[digest] = (principal, now)


def _forget(db: Database, token_id: str) -> None:
    entries = _verified.get(db, {})
    for digest, (principal, _read_at) in list(entries.items()):
        if principal.token_id == token_id:
            entries.pop(digest, None)


def create_token(
    db: Database,
    clock: Clock,
    *,
    name: str,
    scopes: str,
    user_email: str | None = None,
    actor: str = "cli",
) -> tuple[TokenInfo, str]:
    """Create a token; returns its description and the secret, which is never stored."""
    try:
        scope_set = parse_scopes(scopes)
    except ValueError as error:
        raise InvalidInput("invalidScopes", target="scopes", detail=error) from error
    if not name.strip():
        raise InvalidInput("tokenNameRequired", target="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with db.write() as session:
        user_id = None
        if user_email is not None:
            address = normalize_email(user_email)
            user = session.scalar(select(StaffUser).where(StaffUser.email == address))
            if user is None:
                raise NotFound("userNotFound", email=user_email)
            user_id = user.id
        row = ApiToken(
            id=str(uuid.uuid4()),
            name=name.strip(),
            token_hash=_digest(secret),
            token_prefix=secret[: len(TOKEN_PREFIX) + 6],
            scopes=" ".join(sorted(scope_set)),
            user_id=user_id,
            created_date_time=now,
        )
        session.add(row)
        audit.record(
            session,
            Action.TOKEN_CREATED,
            actor=actor,
            subject=row.id,
            at=now,
            data={"scopes": sorted(scope_set), "userId": user_id},
        )
        return _info(row, user_email), secret


def authenticate_token(db: Database, clock: Clock, secret: str) -> Principal:
    """Resolve a bearer secret to its principal, or raise Unauthenticated."""
    cached = cached_principal(db, clock, secret)
    if cached is not None:
        return cached
    now = clock.now()
    digest = _digest(secret)
    with db.read() as session:
        found = session.execute(
            select(ApiToken, StaffUser)
            .outerjoin(StaffUser, StaffUser.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest)
        ).first()
        row, user = found if found is not None else (None, None)
        if row is None or row.revoked_date_time is not None:
            raise Unauthenticated("tokenInvalid")
        if row.user_id is not None and (user is None or not user.is_active):
            # A token acts with its user's rights; a deactivated user has none left.
            raise Unauthenticated("tokenUserDeactivated")
        principal = Principal(
            token_id=row.id,
            token_name=row.name,
            scopes=frozenset(row.scopes.split()),
            user_id=row.user_id,
            user_email=user.email if user is not None else None,
            user_role=user.role if user is not None else None,
        )
        stale = row.last_used_date_time is None or (
            (now - row.last_used_date_time).total_seconds() > LAST_USED_GRANULARITY_SECONDS
        )
    if stale:
        with db.write() as session:
            touched = session.get(ApiToken, principal.token_id)
            if touched is not None:
                touched.last_used_date_time = now
    _remember(db, digest, principal, now)
    return principal


def me_user_id(db: Database, principal: Principal) -> str:
    """The staff user `/me` means: the token's user, else the first administrator."""
    if principal.user_id is not None:
        return get_user(db, principal.user_id).id
    admin = first_administrator(db)
    if admin is None:
        raise NotFound("noUserForToken")
    return admin.id


def list_tokens(db: Database) -> list[TokenInfo]:
    with db.read() as session:
        rows = session.execute(
            select(ApiToken, StaffUser.email)
            .outerjoin(StaffUser, StaffUser.id == ApiToken.user_id)
            .order_by(ApiToken.created_date_time, ApiToken.id)
        ).all()
        return [_info(row, email) for row, email in rows]


def revoke_token(db: Database, clock: Clock, token_id: str, *, actor: str = "cli") -> None:
    now = clock.now()
    with db.write() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound("tokenNotFound", token=token_id)
        if row.revoked_date_time is None:
            row.revoked_date_time = now
            _forget(db, token_id)
            audit.record(session, Action.TOKEN_REVOKED, actor=actor, subject=token_id, at=now)


def revoke_user_tokens(session: Session, db: Database, user_id: str, now: datetime) -> int:
    """Revoke every live token acting for `user_id` inside the caller's transaction."""
    token_ids = list(
        session.scalars(
            select(ApiToken.id).where(
                ApiToken.user_id == user_id, ApiToken.revoked_date_time.is_(None)
            )
        )
    )
    if token_ids:
        session.execute(
            update(ApiToken).where(ApiToken.id.in_(token_ids)).values(revoked_date_time=now)
        )
    for token_id in token_ids:
        _forget(db, token_id)
    return len(token_ids)


def _info(row: ApiToken, user_email: str | None) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        prefix=row.token_prefix,
        scopes=tuple(row.scopes.split()),
        user_email=user_email,
        created=row.created_date_time,
        last_used=row.last_used_date_time,
        revoked=row.revoked_date_time,
    )
