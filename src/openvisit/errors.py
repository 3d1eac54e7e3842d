"""Domain errors every layer understands; transports map them to their wire format.

An error is raised by its reason (`openvisit.reasons`), which fixes its HTTP status, its
Graph `code` and its message, so the REST API needs one handler, the web pages can show
the same message, and clients read the reason from `innerError.code`. The classes only
group reasons for `except`; raising a reason under a class of another status is a bug
caught at once.
"""

from __future__ import annotations

from openvisit.reasons import REASONS


class DomainError(Exception):
    code = "generalException"
    status = 500

    def __init__(self, reason: str, /, *, target: str | None = None, **params: object) -> None:
        entry = REASONS[reason]
        expected = _CLASS_BY_STATUS.get(entry.status, DomainError)
        if not isinstance(self, expected):
            raise TypeError(f"{reason} answers {entry.status}: raise it as {expected.__name__}")
        message = entry.template.format(**params)
        super().__init__(message)
        self.reason = reason
        # Kept so a page can say the same in the reader's language (web/ translates).
        self.params = params
        self.message = message
        self.status = entry.status
        self.code = entry.code
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


class PreconditionFailed(DomainError):
    code = "preconditionFailed"
    status = 412


class PayloadTooLarge(DomainError):
    code = "requestEntityTooLarge"
    status = 413


class UnsupportedMediaType(DomainError):
    code = "unsupportedMediaType"
    status = 415


class RetryLater(DomainError):
    """Refused for now; the client may try again after `retry_after_seconds`."""

    def __init__(
        self,
        reason: str,
        /,
        *,
        retry_after_seconds: int,
        target: str | None = None,
        **params: object,
    ) -> None:
        super().__init__(reason, target=target, **params)
        self.retry_after_seconds = max(1, retry_after_seconds)


class TooManyRequests(RetryLater):
    code = "activityLimitReached"
    status = 429


class ServiceBusy(RetryLater):
    code = "serviceNotAvailable"
    status = 503


_CLASS_BY_STATUS: dict[int, type[DomainError]] = {
    error.status: error
    for error in (
        InvalidInput,
        NotFound,
        Conflict,
        Unauthenticated,
        Forbidden,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
    )
} | {429: TooManyRequests, 503: ServiceBusy}
