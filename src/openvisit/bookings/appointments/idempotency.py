"""Replaying the first result of a retried booking under the same Idempotency-Key."""

from __future__ import annotations

from sqlalchemy.orm import Session

from openvisit.errors import Conflict
from openvisit.store.booking_queries import idempotency_key
from openvisit.store.db import Database
from openvisit.store.models import Appointment


def replay(session: Session, business_id: str, key: str, fingerprint: str) -> Appointment | None:
    """The appointment booked under `key`, None if none was; 409 if the request differs."""
    row = idempotency_key(session, business_id, key)
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise Conflict("idempotencyKeyReused")
    return session.get(Appointment, row.appointment_id)


def replay_committed(
    db: Database, business_id: str, key: str, fingerprint: str
) -> Appointment | None:
    """`replay` in a fresh read, after a concurrent request with the key committed."""
    with db.read() as session:
        return replay(session, business_id.lower(), key, fingerprint)
