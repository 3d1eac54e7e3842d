"""A log line per interval, with a count, for events that can come thousands a second."""

from __future__ import annotations

import logging
import time

LOG_INTERVAL_SECONDS = 10.0


class RateLimitedLog:
    """One warning per interval with the count of events since the last line.

    Refused connections and requests come in floods; a line each would let an attacker
    fill the disk and drown the log that says what happened.
    """

    def __init__(
        self, logger: logging.Logger, message: str, interval: float = LOG_INTERVAL_SECONDS
    ) -> None:
        self.logger = logger
        self.message = message
        self.interval = interval
        self.count = 0
        self.last = float("-inf")

    def event(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.logger.warning(self.message, self.count)
            self.count = 0
            self.last = now
