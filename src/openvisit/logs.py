"""Logging: one handler on the root logger, request ids on every line, nothing private.

- Every record carries `request_id`: the id of the HTTP request being served (the one
  sent back in the `request-id` header and the error envelope), "-" outside requests.
  It lives in a context variable, so it follows a request into the worker threads that
  anyio copies the context into.
- Every formatted line, traceback included, goes through `redact.redact`: no passwords,
  tokens or e-mail local parts reach the log, whatever a message or exception holds.
- Repeated identical warnings and errors are rate-limited: a fault hit by every request
  (a full disk) logs a few tracebacks per interval and then counts, instead of writing
  tens of megabytes in seconds.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

from openvisit.redact import redact

LogFormat = Literal["text", "json"]

request_id_var: ContextVar[str] = ContextVar("openvisit_request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# How many identical warnings or errors pass per interval before the rest are counted.
REPEAT_BURST = 5
REPEAT_INTERVAL_SECONDS = 60.0
MAX_TRACKED_KEYS = 1024


MAX_LOGGED_PARAMETERS = 10


def without_query_values(target: str) -> str:
    """`/x?$filter=...&$top=5` -> `/x?$filter&$top`: names say what was asked, values whom."""
    path, mark, query = target.partition("?")
    if not mark:
        return path
    names = [part.partition("=")[0][:40] for part in query.split("&") if part]
    shown = "&".join(names[:MAX_LOGGED_PARAMETERS])
    more = "&…" if len(names) > MAX_LOGGED_PARAMETERS else ""
    return f"{path}?{shown}{more}"


class ServerLineFilter(logging.Filter):
    """uvicorn's own lines (WebSocket accepted/rejected) print the path with its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("uvicorn") and isinstance(record.args, tuple):
            record.args = tuple(
                without_query_values(arg) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RepeatLimiter(logging.Filter):
    """Let `burst` identical warnings/errors through per `interval`, count the others.

    Identical means same logger, level, message template and exception type and place,
    whatever the arguments: a full disk fails every request at the same line. The next
    record that passes for that key says how many were suppressed.
    """

    def __init__(
        self,
        burst: int = REPEAT_BURST,
        interval: float = REPEAT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.interval = interval
        self.clock = clock
        self._windows: dict[tuple[object, ...], list[float]] = {}  # start, passed, suppressed

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        now = self.clock()
        key = _repeat_key(record)
        window = self._windows.get(key)
        if window is None or now - window[0] >= self.interval:
            suppressed = int(window[2]) if window is not None else 0
            if len(self._windows) >= MAX_TRACKED_KEYS:
                self._forget_expired(now)
            self._windows[key] = [now, 1, 0]
            record.suppressed = suppressed
            return True
        if window[1] < self.burst:
            window[1] += 1
            record.suppressed = 0
            return True
        window[2] += 1
        return False

    def _forget_expired(self, now: float) -> None:
        for key, window in list(self._windows.items()):
            if now - window[0] >= self.interval:
                del self._windows[key]
        if len(self._windows) >= MAX_TRACKED_KEYS:  # all busy: keep memory bounded anyway
            self._windows.clear()


def _repeat_key(record: logging.LogRecord) -> tuple[object, ...]:
    place: tuple[object, ...] = ()
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        traceback = error.__traceback__
        while traceback is not None and traceback.tb_next is not None:
            traceback = traceback.tb_next
        line = (traceback.tb_frame.f_code.co_filename, traceback.tb_lineno) if traceback else ()
        place = (type(error).__qualname__, *line)
    return (record.name, record.levelno, str(record.msg), *place)


def _suppressed_note(record: logging.LogRecord) -> str:
    count = getattr(record, "suppressed", 0)
    return f" ({count} more like this suppressed)" if count else ""


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if note := _suppressed_note(record):
            first, newline, rest = line.partition("\n")
            line = first + note + newline + rest
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": redact(record.getMessage() + _suppressed_note(record)),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time, as a test's capture may replace it."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def build_handler(
    log_format: LogFormat = "text",
    stream: TextIO | None = None,
    limiter: RepeatLimiter | None = None,
) -> logging.Handler:
    handler: logging.Handler = StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ServerLineFilter())
    handler.addFilter(limiter or RepeatLimiter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def configure(level: str | int = "info", log_format: LogFormat = "text") -> None:
    """Send every logger's records to standard error through one handler of ours.

    Calling it again replaces the handler it installed before and nothing else.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "openvisit", False):
            root.removeHandler(handler)
    handler = build_handler(log_format)
    handler.openvisit = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
