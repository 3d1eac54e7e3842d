"""Domain errors every layer understands; transports map them to their wire format.

Each carries a Graph error `code` and the HTTP status Graph uses for it, so the REST API
needs one handler and the web pages can show the same message.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "generalException"
    status = 500

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target


class InvalidInput(DomainError):
    code = "badRequest"
    status = 400


class NotFound(DomainError):
    code = "itemNotFound"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class Unauthenticated(DomainError):
    code = "InvalidAuthenticationToken"
    status = 401


class Forbidden(DomainError):
    code = "accessDenied"
    status = 403


class RetryLater(DomainError):
    """Refused for now; the client may try again after `retry_after_seconds`."""

    def __init__(
        self, message: str, *, retry_after_seconds: int, target: str | None = None
    ) -> None:
        super().__init__(message, target=target)
        self.retry_after_seconds = max(1, retry_after_seconds)


class TooManyRequests(RetryLater):
    code = "activityLimitReached"
    status = 429


class ServiceBusy(RetryLater):
    code = "serviceNotAvailable"
    status = 503
