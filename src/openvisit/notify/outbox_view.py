"""What the local outbox kept, read back for /dev/outbox: newest first, a page at a time.

Pages are keyset pages on the row id (ids only grow, so "newest first" is "highest id
first"): a page holds the messages below a `before` id or above an `after` id, which
stays correct while the dispatcher adds messages between two clicks, where an offset
would shift every row by the number added. Only the list's columns are read for a page;
the text, HTML and calendar parts are read for one message at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeAlias

from sqlalchemy import ColumnElement, Row, Select, UnaryExpression, select
from sqlalchemy.orm import Session

from openvisit.notify.sms_text import segment
from openvisit.store.db import Database
from openvisit.store.models import OutboxMessage

PAGE_SIZE: Final = 50
# A subject is one line; an SMS in the list is shown up to this many characters.
PREVIEW_LENGTH: Final = 160


@dataclass(frozen=True, slots=True)
class OutboxAttachment:
    filename: str
    content_type: str
    size: int  # bytes; the outbox keeps the size, not the bytes


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One message as the list shows it: `summary` is the subject, or the SMS text."""

    id: int
    channel: str  # "email" | "sms"
    recipient: str
    recipient_name: str | None
    summary: str
    created_at: datetime
    segments: int | None  # SMS only: what a carrier would bill


@dataclass(frozen=True, slots=True)
class OutboxPage:
    """Up to a page of messages, newest first, and the cursors to the pages around it:
    `older` is the `before` of the next older page, `newer` the `after` of the next newer
    one; None where there is none."""

    items: tuple[OutboxItem, ...]
    older: int | None
    newer: int | None


@dataclass(frozen=True, slots=True)
class OutboxMessageView:
    """One kept message, every part of it."""

    id: int
    channel: str
    recipient: str
    recipient_name: str | None
    subject: str | None
    text: str
    html: str | None
    calendar: str | None
    attachments: tuple[OutboxAttachment, ...]
    idempotency_key: str
    created_at: datetime
    segments: int | None
    encoding: str | None  # SMS only: "GSM-7" or "UCS-2"


# id, channel, recipient, recipient_name, subject, text, created_at
_ListRow: TypeAlias = "Row[int, str, str, str | None, str | None, str, datetime]"
_ListSelect: TypeAlias = "Select[int, str, str, str | None, str | None, str, datetime]"
_LIST_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.channel,
    OutboxMessage.recipient,
    OutboxMessage.recipient_name,
    OutboxMessage.subject,
    OutboxMessage.text,
    OutboxMessage.created_at,
)


def list_outbox(
    db: Database, *, before: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> OutboxPage:
    """The newest `limit` messages below `before`, or the oldest `limit` above `after`
    (shown newest first), or the newest of all when neither is given."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    with db.read() as session:
        if after is not None:
            # Walk upward from the cursor, then turn the page around for display.
            query = _page(OutboxMessage.id > after, OutboxMessage.id.asc(), limit)
            rows = list(reversed(session.execute(query).all()))
        else:
            condition = OutboxMessage.id < before if before is not None else None
            rows = list(session.execute(_page(condition, OutboxMessage.id.desc(), limit)).all())
        more_newer = after is not None and len(rows) > limit
        more_older = after is None and len(rows) > limit
        rows = rows[1:] if more_newer else rows[:limit]
        if rows:
            # The direction not walked: is anything beyond this page on that side?
            more_newer = more_newer or _exists(session, OutboxMessage.id > rows[0].id)
            more_older = more_older or _exists(session, OutboxMessage.id < rows[-1].id)
    items = tuple(_item(row) for row in rows)
    return OutboxPage(
        items=items,
        older=items[-1].id if items and more_older else None,
        newer=items[0].id if items and more_newer else None,
    )


def get_outbox_message(db: Database, message_id: int) -> OutboxMessageView | None:
    """The message with this id, or None if the outbox has none."""
    with db.read() as session:
        row = session.get(OutboxMessage, message_id)
        if row is None:
            return None
        return _view(row)


def _page(
    condition: ColumnElement[bool] | None, order: UnaryExpression[int], limit: int
) -> _ListSelect:
    # One row past the page tells whether another page follows in this direction.
    query = select(*_LIST_COLUMNS).order_by(order).limit(limit + 1)
    return query if condition is None else query.where(condition)


def _exists(session: Session, condition: ColumnElement[bool]) -> bool:
    return session.execute(select(OutboxMessage.id).where(condition).limit(1)).first() is not None


def _item(row: _ListRow) -> OutboxItem:
    sms = row.channel == "sms"
    summary = row.text if sms else (row.subject or "")
    if len(summary) > PREVIEW_LENGTH:
        summary = summary[: PREVIEW_LENGTH - 1] + "\u2026"
    return OutboxItem(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        recipient_name=row.recipient_name,
        summary=summary,
        created_at=row.created_at,
        segments=segment(row.text).segments if sms else None,
    )


def _view(row: OutboxMessage) -> OutboxMessageView:
    split = segment(row.text) if row.channel == "sms" else None
    return OutboxMessageView(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        recipient_name=row.recipient_name,
        subject=row.subject,
        text=row.text,
        html=row.html,
        calendar=row.calendar,
        attachments=_attachments(row.attachments or []),
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        segments=split.segments if split else None,
        encoding=split.encoding if split else None,
    )


def _attachments(items: Sequence[dict[str, Any]]) -> tuple[OutboxAttachment, ...]:
    return tuple(
        OutboxAttachment(
            filename=str(item.get("filename", "")),
            content_type=str(item.get("contentType", "")),
            size=int(item.get("size", 0)),
        )
        for item in items
    )
