"""Append-only audit log, written inside the transaction that makes the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from openvisit.store.models import AuditRecord


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
    session.add(AuditRecord(action=action, actor=actor, subject=subject, at=at, data=data or {}))
