"""What a transport is handed: one rendered e-mail or text message, plain values only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    data: bytes


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One e-mail to one recipient, rendered (text and HTML) and ready to send.

    `message_id` is derived from the notification's idempotency key, so a message sent
    again after an ambiguous failure carries the same Message-ID and mail clients that
    de-duplicate by it show it once.
    """

    to_address: str
    to_name: str | None
    subject: str
    text: str
    html: str | None
    message_id: str
    idempotency_key: str
    language: str = "en"
    attachments: tuple[Attachment, ...] = ()
    # An iCalendar part shown inline by calendar clients (text/calendar; method=...).
    calendar: Attachment | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class TextMessage:
    """One SMS to one E.164 number.

    `first_attempt_at` is when the first attempt at this send was made (the same for
    every retry): a provider that de-duplicates retries by request id and first-sent
    time (Azure Communication Services' repeatability) needs both to stay the same.
    """

    to_number: str
    body: str
    idempotency_key: str
    first_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a transport reports after the provider accepted a message."""

    provider_id: str | None = None
    detail: str | None = None
