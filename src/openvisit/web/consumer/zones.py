"""The time zone a consumer reads times in: detected by the browser, changeable, labelled.

Without JavaScript the page starts in the business's zone and offers every place zone in
a list; with it, static/consumer/zone.js swaps in the browser's own zone once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo, available_timezones

from openvisit.bookings.timezones import UnknownTimeZone, resolve_zone

# The tz database's place zones ("Europe/Berlin"); the rest are aliases and legacy names.
_REGIONS = frozenset(
    {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian"}
    | {"Pacific"}
)
MAX_ZONE_NAME = 64


@functools.cache
def zone_names() -> tuple[str, ...]:
    places = sorted(name for name in available_timezones() if name.split("/")[0] in _REGIONS)
    return (*places, "UTC")


@dataclass(frozen=True, slots=True)
class ConsumerZone:
    name: str
    zone: ZoneInfo
    asked: bool  # the visitor (or their browser) named it; False: the page's default


def consumer_zone(asked: str | None, default: str) -> ConsumerZone:
    """The zone `asked` for when it is one, else `default` (the business's)."""
    if asked and len(asked) <= MAX_ZONE_NAME:
        try:
            return ConsumerZone(asked.strip(), resolve_zone(asked), asked=True)
        except UnknownTimeZone:
            pass
    return ConsumerZone(default, resolve_zone(default), asked=False)


def zone_options(current: str) -> tuple[tuple[str, str], ...]:
    """(value, text) for the zone list; a current zone outside the list is added first."""
    names = zone_names()
    extra = () if current in names else (current,)
    return tuple((name, name.replace("_", " ")) for name in (*extra, *names))
