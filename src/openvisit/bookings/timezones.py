"""Time zone names as Graph accepts them: IANA names and Windows names.

Windows names ("Pacific Standard Time") are mapped with the CLDR windowsZones table that
tzlocal maintains, never a hand-typed dict. Names are stored as the client wrote them,
so a client reads back what it sent; `resolve_zone` is used wherever a zone is applied.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tzlocal.windows_tz import win_tz

_WINDOWS_BY_LOWER = {name.lower(): iana for name, iana in win_tz.items()}
# Files tzdata installs that are no place's zone: `localtime` is whatever the server's
# clock is set to (so a booking would move with the host), `Factory` has no offset name.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


class UnknownTimeZone(ValueError):
    """A time zone name that is neither IANA nor Windows."""


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


@lru_cache(maxsize=512)
def resolve_zone(name: str) -> ZoneInfo:
    """Return the zone for an IANA or Windows time zone name (Windows case-insensitively)."""
    candidate = name.strip()
    if candidate in _iana_names() or candidate == "UTC":
        return ZoneInfo(candidate)
    iana = _WINDOWS_BY_LOWER.get(candidate.lower())
    if iana is None:
        raise UnknownTimeZone(f"'{name}' is not an IANA or Windows time zone name")
    try:
        return ZoneInfo(iana)
    except ZoneInfoNotFoundError as error:  # CLDR names a zone tzdata lacks: say so plainly
        raise UnknownTimeZone(f"'{name}' maps to '{iana}', which is not installed") from error


def check_time_zone(name: str) -> str:
    """Validate a time zone name and return it unchanged (Graph echoes what was written)."""
    resolve_zone(name)
    return name
