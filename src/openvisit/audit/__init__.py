"""Append-only audit log, written inside the transaction that makes the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from openvisit.store.models import AuditRecord, table_of


def record(
    session: Session,
    action: str,
    *,
    actor: str,
    subject: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Add one audit row; `action` is a stable dotted name such as `openvisit.service.created`."""
    # A plain INSERT, not an ORM object: nothing reads the row back in the transaction,
    # and skipping the unit of work matters on the booking path.
    session.execute(
        insert(table_of(AuditRecord)),
        [row(action, actor=actor, subject=subject, at=at, data=data)],
    )


def row(
    action: str, *, actor: str, subject: str, at: datetime, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An audit row's column values, for callers that insert it with other rows."""
    return {"action": action, "actor": actor, "subject": subject, "at": at, "data": data or {}}
