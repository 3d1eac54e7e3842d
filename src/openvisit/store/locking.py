"""The one place writers serialize on scarce staff time (see docs/locking.md).

Call `lock_staff_time` once per booking transaction, after loading what the request
names and before checking availability, so the check and the insert see the same world.

- PostgreSQL: transaction-scoped advisory locks, one per staff member, taken in sorted
  order so two transactions never wait on each other in a cycle, all in one statement;
  the connection's lock_timeout (store/db.py) turns a pile-up into a retryable "busy"
  answer. The exclusion constraint on staff_holds is the backstop should any path
  forget to lock.
- SQLite: `Database.write()` began with BEGIN IMMEDIATE, so this transaction already
  holds the only write lock there is.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from openvisit.errors import ServiceBusy

LOCK_TIMEOUT_MS = 5_000
# PostgreSQL's SQLSTATE for "lock_timeout expired" (lock_not_available).
LOCK_NOT_AVAILABLE = "55P03"
# PostgreSQL's exclusion_violation: the staff_holds constraint refused an overlap.
EXCLUSION_VIOLATION = "23P01"

# One round trip for any number of staff. The ORDER BY sits in a subquery, which
# PostgreSQL never flattens, so the outer select takes the locks in sorted order.
_LOCK_STAFF = text(
    """
    SELECT pg_advisory_xact_lock(hashtextextended(staff_id, 0))
    FROM (
        SELECT DISTINCT staff_id FROM unnest(:staff_ids) AS staff_id ORDER BY staff_id
    ) AS sorted_staff
    """
).bindparams(bindparam("staff_ids", type_=ARRAY(String)))


# Keyed apart from the staff ids (UUIDs): "email:" never starts one.
_LOCK_EMAIL = text("SELECT pg_advisory_xact_lock(hashtextextended('email:' || :email, 0))")


# A lock wait ends within seconds, so a client may try again almost at once.
BUSY_RETRY_AFTER_SECONDS = 1


class Busy(ServiceBusy):
    """Too many writers at once for the same staff time; the client may retry.

    A 503 with Retry-After, like every other refusal that passes with time.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retry_after_seconds=BUSY_RETRY_AFTER_SECONDS)


class _Guard:
    """Test-only switch: the concurrency control tests turn the lock off to prove the race.

    Off, `lock_staff_time` takes no advisory locks, `lock_appointment` no row lock, and
    `Database.write()` begins SQLite
    transactions DEFERRED instead of IMMEDIATE without queueing writers (store/db.py,
    store/writer_queue.py). Nothing else reads it.
    """

    enabled = True


guard = _Guard()


WRITES = "openvisit.writes"  # Session.info key set on sessions from Database.write()


def in_write_transaction(session: Session) -> bool:
    """Whether `session` came from `Database.write()` (a read sees no lock held)."""
    return bool(session.info.get(WRITES))


def lock_staff_time(session: Session, staff_ids: Iterable[str]) -> None:
    """Serialize this transaction with every other one touching these staff members.

    On SQLite the write transaction's file lock already serializes writers, so this is a
    no-op there (and the booking path may decide in a plain read first). On PostgreSQL
    only a write transaction can hold staff time: in a read the lock would end with the
    read and protect nothing, so asking for it there is a programming error.
    """
    if not guard.enabled or session.get_bind().dialect.name != "postgresql":
        return
    if not in_write_transaction(session):
        raise RuntimeError("lock_staff_time needs a session from Database.write()")
    wanted = sorted(set(staff_ids))
    if wanted:
        session.execute(_LOCK_STAFF, {"staff_ids": wanted}).all()


def lock_email(session: Session, email: str) -> None:
    """Serialize this transaction with every other one that lets a staff user and staff
    members with `email` (any case) find each other: creating that user, giving a staff
    member that e-mail (meetings/appointment_meetings.py). SQLite: as lock_staff_time."""
    if not guard.enabled or session.get_bind().dialect.name != "postgresql":
        return
    if not in_write_transaction(session):
        raise RuntimeError("lock_email needs a session from Database.write()")
    session.execute(_LOCK_EMAIL, {"email": email.lower()}).all()


def is_lock_timeout(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE


def is_overlap(error: IntegrityError) -> bool:
    """The exclusion constraint on staff_holds refused two holds of one staff member.

    Any other integrity error (a NOT NULL, a foreign key) is a bug, not a taken slot:
    calling it "already booked" would hide it.
    """
    return getattr(error.orig, "sqlstate", None) == EXCLUSION_VIOLATION


_LOCK_APPOINTMENT = text("SELECT id FROM appointments WHERE id = :appointment_id FOR UPDATE")


def lock_appointment(session: Session, appointment_id: str) -> None:
    """Hold the appointment's row until this write transaction ends (PostgreSQL).

    A change reads the appointment, lays its edits over it and writes it back; two at once
    would each write their edit over the row the other had not yet changed, and one edit
    would be lost. The row lock makes the second wait and then read the first's result.
    SQLite's write transactions are serialized already.
    """
    if (
        guard.enabled
        and in_write_transaction(session)
        and session.get_bind().dialect.name == "postgresql"
    ):
        session.execute(_LOCK_APPOINTMENT, {"appointment_id": appointment_id}).all()
