"""The one place writers serialize on scarce staff time (see docs/locking.md).

Call `lock_staff_time` once per booking transaction, after loading what the request
names and before checking availability, so the check and the insert see the same world.

- PostgreSQL: transaction-scoped advisory locks, one per staff member, taken in sorted
  order so two transactions never wait on each other in a cycle; a short lock_timeout
  turns a pile-up into a retryable "busy" answer. The exclusion constraint on
  staff_holds is the backstop should any path forget to lock.
- SQLite: `Database.write()` began with BEGIN IMMEDIATE, so this transaction already
  holds the only write lock there is.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from openvisit.errors import DomainError

LOCK_TIMEOUT = "5s"


class Busy(DomainError):
    """Too many writers at once for the same staff time; the client may retry."""

    code = "serviceNotAvailable"
    status = 503


class _Guard:
    """Test-only switch: the concurrency control tests turn the lock off to prove the race.

    Off, `lock_staff_time` takes no advisory locks and `Database.write()` begins SQLite
    transactions DEFERRED instead of IMMEDIATE (store/db.py). Nothing else reads it.
    """

    enabled = True


guard = _Guard()


def lock_staff_time(session: Session, staff_ids: Iterable[str]) -> None:
    """Serialize this transaction with every other one touching these staff members."""
    if not guard.enabled or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    try:
        for staff_id in sorted(set(staff_ids)):
            session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(staff_id, 0))))
    except OperationalError as error:  # lock_timeout expired
        raise Busy("The calendar is busy; retry the request in a moment.") from error
