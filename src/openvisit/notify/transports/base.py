"""The contract of a delivery transport (e-mail or SMS).

A transport sends one message per call and either returns a `Receipt` (the provider
accepted it) or raises:

- `TransientFailure`: not sent, worth retrying later (connection refused, timeout, a
  4xx SMTP reply, HTTP 429/5xx, credentials refused: the operator's fix lets the
  message through). `retry_after_seconds` may carry the provider's hint.
- `PermanentFailure`: will never succeed as it stands (recipient refused, invalid
  number, HTTP 400); the row is marked failed with the reason.

A transport never retries on its own and never logs message bodies: retries, backoff and
the delivery log belong to the dispatcher. Transports are async because SMTP and HTTP
are I/O; a transport may be used by many concurrent sends and must be safe for that.
`close()` releases pooled connections when the dispatcher stops.
"""

from __future__ import annotations

from typing import Protocol

from openvisit.notify.messages import EmailMessage, Receipt, TextMessage


class DeliveryFailure(Exception):
    """A send that did not go through; `reason` is a short text for the delivery log."""

    def __init__(self, reason: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds


class TransientFailure(DeliveryFailure):
    """Not sent this time; the dispatcher retries with backoff."""


class PermanentFailure(DeliveryFailure):
    """Will not succeed by retrying; the dispatcher marks the row failed."""


class EmailTransport(Protocol):
    name: str

    async def send_email(self, message: EmailMessage) -> Receipt: ...

    async def close(self) -> None: ...


class SmsTransport(Protocol):
    name: str

    async def send_sms(self, message: TextMessage) -> Receipt: ...

    async def close(self) -> None: ...
