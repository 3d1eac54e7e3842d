"""Append-only audit log, written inside the transaction that makes the change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from openvisit.audit.actions import Action
from openvisit.store.models import AuditRecord, table_of


def record(
    session: Session,
    action: Action,
    *,
    actor: str,
    subject: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Add one audit row for `action`, one of the table in audit/actions.py."""
    add(session, [row(action, actor=actor, subject=subject, at=at, data=data)])


def add(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add rows built by `row`."""
    # A plain INSERT, not an ORM object: nothing reads the row back in the transaction,
    # and skipping the unit of work matters on the booking path.
    session.execute(insert(table_of(AuditRecord)), list(rows))


def row(
    action: Action, *, actor: str, subject: str, at: datetime, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An audit row's column values, for callers that insert it with other rows."""
    return {
        "action": action.value,
        "actor": actor,
        "subject": subject,
        "at": at,
        "data": data or {},
    }
