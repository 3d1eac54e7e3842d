"""Sign-in throttling: failures slow an account and a client address down, then lock them.

Failures are counted per key: `account:<keyed digest of the e-mail>` and
`address:<client address>` (an IPv6 client by its /64, which one subscriber usually holds
whole). After a key's free failures each further failure makes it wait before the next
attempt (1 s, 2 s, 4 s ... up to a minute); at `lock_after` failures it is locked for
`lock_seconds`. An attempt during a wait is refused before any password is hashed, so
a locked key costs the server one indexed read. A key's count is forgotten `lock_seconds`
after its last failure (or when its lock ends); a successful sign-in clears the account
key but not the address key, so one good account cannot reset a spray from its address.

The state is rows in the database (`sign_in_throttle`), so every worker process of
`serve --workers N` sees the same counts. Rows past their `forget_after` are deleted at
every failure, which bounds the table by the keys that failed recently.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from openvisit.addresses import parse_address
from openvisit.auth.users import normalize_email
from openvisit.errors import InvalidInput
from openvisit.store.db import Database
from openvisit.store.models import SignInThrottle, table_of

_ACCOUNT_PURPOSE = b"openvisit.sign-in-account"
# The longest wait while slowing down, before the lock takes over.
MAX_DELAY_SECONDS = 60


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int
    lock_after: int
    lock_seconds: int

    def wait_seconds(self, failures: int) -> int:
        """How long a key with `failures` recent failures waits before its next attempt."""
        if failures >= self.lock_after:
            return self.lock_seconds
        if failures <= self.free_failures:
            return 0
        return int(min(2 ** (failures - self.free_failures - 1), MAX_DELAY_SECONDS))


# An account is guessed at from anywhere: few free tries, locked after 10 for 15 minutes.
ACCOUNT_POLICY = ThrottlePolicy(free_failures=3, lock_after=10, lock_seconds=15 * 60)
# An address may be an office behind one NAT: more room before it slows and locks.
ADDRESS_POLICY = ThrottlePolicy(free_failures=10, lock_after=50, lock_seconds=15 * 60)


@dataclass(frozen=True)
class ThrottleKey:
    key: str
    policy: ThrottlePolicy


def account_digest(secret_key: str, email: str) -> str:
    """A keyed digest of an e-mail (normalized as sign-in does): names the account in
    throttle rows and failed-sign-in audit rows without storing the address."""
    try:
        address = normalize_email(email)
    except InvalidInput:
        address = email.strip().lower()
    key = hmac.new(secret_key.encode("utf-8"), _ACCOUNT_PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, address.encode("utf-8"), hashlib.sha256).hexdigest()


def account_key(secret_key: str, email: str) -> ThrottleKey:
    return ThrottleKey(f"account:{account_digest(secret_key, email)}", ACCOUNT_POLICY)


def keys_for(secret_key: str, email: str, address: str | None) -> list[ThrottleKey]:
    keys = [account_key(secret_key, email)]
    if address:
        keys.append(ThrottleKey(f"address:{_address_key(address)}", ADDRESS_POLICY))
    return keys


def _address_key(address: str) -> str:
    parsed = parse_address(address)
    if parsed is None:
        return address[:64]
    if parsed.version == 6:
        return f"{parsed.exploded[:19]}::/64"
    return str(parsed)


def blocked_until(db: Database, now: datetime, keys: Sequence[ThrottleKey]) -> datetime | None:
    """The latest time any of `keys` must wait until, or None when all may try now."""
    with db.read() as session:
        until = session.scalar(
            select(func.max(SignInThrottle.blocked_until)).where(
                SignInThrottle.key.in_([key.key for key in keys]),
                SignInThrottle.blocked_until > now,
            )
        )
    return until


def retry_after_seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def record_failure(
    session: Session, now: datetime, keys: Sequence[ThrottleKey]
) -> list[tuple[ThrottleKey, datetime]]:
    """Count a failure for each key inside the caller's transaction.

    Returns the keys whose lock started with this failure, and until when (to audit).
    The row is created if missing and then locked (FOR UPDATE on PostgreSQL; SQLite write
    transactions are serialized already), so two workers counting at once lose no failure.
    """
    session.execute(delete(SignInThrottle).where(SignInThrottle.forget_after < now))
    started_locks: list[tuple[ThrottleKey, datetime]] = []
    for item in keys:
        _insert_if_missing(session, item.key, now)
        row = session.scalar(
            select(SignInThrottle).where(SignInThrottle.key == item.key).with_for_update()
        )
        if row is None:  # pragma: no cover - inserted just above in this transaction
            continue
        failures = row.failures + 1
        wait = item.policy.wait_seconds(failures)
        row.failures = failures
        row.last_failure_date_time = now
        row.blocked_until = now + timedelta(seconds=wait) if wait else None
        window_end = now + timedelta(seconds=item.policy.lock_seconds)
        row.forget_after = max(window_end, row.blocked_until or window_end)
        if failures == item.policy.lock_after:
            started_locks.append((item, now + timedelta(seconds=wait)))
    return started_locks


def clear(session: Session, key: ThrottleKey) -> None:
    """Forget a key's failures (after a successful sign-in of that account)."""
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == key.key))


def _insert_if_missing(session: Session, key: str, now: datetime) -> None:
    values = {
        "key": key,
        "failures": 0,
        "last_failure_date_time": now,
        "blocked_until": None,
        "forget_after": now,
    }
    table = table_of(SignInThrottle)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(table).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(table).values(values).on_conflict_do_nothing())
