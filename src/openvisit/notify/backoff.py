"""How long a message that failed for now waits before its next attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# A provider's Retry-After beyond this is taken as this: a bogus header must not park a
# message for years (its expiry drops it long before anyway).
LONGEST_HINT = timedelta(days=7)
_MAX_EXPONENT = 40  # 2**40 times any first delay is past every cap


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential: `first` after the first failed attempt, doubling, never above `cap`.

    No jitter: rows fail at the moments their sends ended, which are spread already, and
    a fixed schedule is one a person can read off the delivery log.
    """

    first: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.first <= timedelta(0) or self.cap < self.first:
            raise ValueError("a backoff needs 0 < first <= cap")

    def delay(self, attempts: int, retry_after_seconds: float | None = None) -> timedelta:
        """The wait after attempt number `attempts` (1, 2, ...) failed for now.

        A provider's own hint (Retry-After) wins when it asks for longer.
        """
        exponent = min(max(attempts - 1, 0), _MAX_EXPONENT)
        seconds = min(self.first.total_seconds() * 2.0**exponent, self.cap.total_seconds())
        wait = timedelta(seconds=seconds)
        if retry_after_seconds is not None and retry_after_seconds > 0:
            hint = min(timedelta(seconds=retry_after_seconds), LONGEST_HINT)
            wait = max(wait, hint)
        return wait
