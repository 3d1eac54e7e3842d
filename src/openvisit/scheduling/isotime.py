"""ISO 8601 durations and Edm.TimeOfDay values as Graph writes them.

Graph sends durations as ISO 8601 (`PT30M`, `P1DT2H`), but the official Python SDK
serialises `timedelta` with `str()` (`0:30:00`, `1 day, 2:00:00`); both must parse.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

_ISO_DURATION = re.compile(
    r"^(?P<sign>-)?P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_PYTHON_TIMEDELTA = re.compile(
    r"^(?:(?P<days>-?\d+) days?, )?(?P<hours>\d{1,2}):(?P<minutes>\d{2})"
    r":(?P<seconds>\d{2}(?:\.\d+)?)$"
)
_TIME_OF_DAY = re.compile(r"^(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,7}))?)?$")


class InvalidIsoValue(ValueError):
    """A duration or time of day that is not in a form Graph uses."""


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration or a Python `str(timedelta)` into a timedelta."""
    value = text.strip()
    if match := _ISO_DURATION.match(value):
        # The pattern needs at least one number after P (or after T), so parts is never empty.
        parts = {k: float(v) for k, v in match.groupdict().items() if v and k != "sign"}
        delta = timedelta(**parts)
        return -delta if match.group("sign") else delta
    if match := _PYTHON_TIMEDELTA.match(value):
        return timedelta(
            days=int(match.group("days") or 0),
            hours=int(match.group("hours")),
            minutes=int(match.group("minutes")),
            seconds=float(match.group("seconds")),
        )
    raise InvalidIsoValue(f"'{text}' is not an ISO 8601 duration such as PT30M")


def format_duration(delta: timedelta) -> str:
    """Format a timedelta the way Graph returns Edm.Duration (`PT30M`, `P1DT2H`, `PT0S`)."""
    total = delta.total_seconds()
    sign = "-" if total < 0 else ""
    micros = abs(round(total * 1_000_000))
    days, rest = divmod(micros, 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    out = f"{sign}P{days}D" if days else f"{sign}P"
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or fraction:
        clock += f"{seconds}.{fraction:06d}".rstrip("0").rstrip(".") + "S"
    if clock:
        out += "T" + clock
    return out if out not in ("P", "-P") else "PT0S"


def parse_time_of_day(text: str) -> time:
    """Parse Edm.TimeOfDay (`08:00:00.0000000`, also `08:00` and `08:00:00`)."""
    match = _TIME_OF_DAY.match(text.strip())
    if not match:
        raise InvalidIsoValue(f"'{text}' is not a time of day such as 08:00:00.0000000")
    hour, minute = int(match.group("h")), int(match.group("m"))
    second = int(match.group("s") or 0)
    micro = int((match.group("f") or "0").ljust(7, "0")[:6])
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidIsoValue(f"'{text}' is not a valid time of day")
    return time(hour, minute, second, micro)


def format_time_of_day(value: time) -> str:
    """Format a time the way Graph returns Edm.TimeOfDay (seven fractional digits)."""
    return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}0"
