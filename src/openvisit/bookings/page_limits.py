"""The consumer pages' rate limit: so many form posts per client address per window.

Booking, rescheduling and cancelling from the public pages need no account, so what
slows a script down is its address: each such POST counts against its address (an IPv6
client by its /64, which one subscriber usually holds whole), and past `LIMIT` in a
window of `WINDOW` the pages answer 429 with Retry-After until the window ends. The
address is the one web/deps.request_client reads behind the trusted proxies only, so a
client cannot pick its own with X-Forwarded-For.

Counts are rows (`page_rate_limits`), so every worker process of `serve --workers N`
agrees; a refused post is not counted (its transaction rolls back), and rows whose
window ended are deleted as posts come in.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from openvisit.addresses import parse_address
from openvisit.errors import TooManyRequests
from openvisit.store.db import Database
from openvisit.store.models import PageRateLimit, table_of

# A person books, moves or cancels a handful of times; a family or an office behind one
# address a few more. Twenty posts in ten minutes leaves them room and stops a flood.
LIMIT = 20
WINDOW = timedelta(minutes=10)


def count_post(db: Database, now: datetime, address: str | None) -> None:
    """Count one form post from `address`; TooManyRequests (pageRequestsThrottled) when
    its window is full. A request without an address (a Unix socket) counts as one key."""
    key = f"address:{address_key(address)}"
    with db.write() as session:
        session.execute(delete(PageRateLimit).where(PageRateLimit.forget_after <= now))
        row = _locked_row(session, key, now)
        if now >= row.window_start + WINDOW:
            row.window_start, row.hits = now, 0
        if row.hits >= LIMIT:
            wait = max(1, math.ceil((row.window_start + WINDOW - now).total_seconds()))
            raise TooManyRequests("pageRequestsThrottled", retry_after_seconds=wait, seconds=wait)
        row.hits += 1
        row.forget_after = row.window_start + WINDOW


def address_key(address: str | None) -> str:
    parsed = parse_address(address)
    if parsed is None:
        return (address or "unknown")[:64]
    if parsed.version == 6:
        return f"{parsed.exploded[:19]}::/64"
    return str(parsed)


def _locked_row(session: Session, key: str, now: datetime) -> PageRateLimit:
    """The key's row, created if missing, locked (FOR UPDATE on PostgreSQL; SQLite's write
    transactions are serialized already) so two workers counting at once lose no post."""
    values = {"key": key, "window_start": now, "hits": 0, "forget_after": now + WINDOW}
    table = table_of(PageRateLimit)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(table).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(table).values(values).on_conflict_do_nothing())
    row = session.scalar(select(PageRateLimit).where(PageRateLimit.key == key).with_for_update())
    if row is None:  # pragma: no cover - inserted just above in this transaction
        raise RuntimeError(f"rate limit row {key!r} vanished")
    return row
