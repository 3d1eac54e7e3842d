"""The slot step, shared by booking and rescheduling: a week of days, one day's free times.

Days are the consumer's days (read in their zone), so a clinic in New York offers a
visitor in Kolkata the evening times of that visitor's calendar day. Every control is a
link or a GET form: the step works with JavaScript off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from babel import dates

from openvisit import i18n
from openvisit.bookings.booking_page import week_slots
from openvisit.runtime import Runtime
from openvisit.web.consumer.rendering import with_query
from openvisit.web.consumer.zones import ConsumerZone, zone_options

DAYS_SHOWN = 7
# How far ahead the day picker pages; the scheduling policy's maximumAdvance is what
# actually ends the offered times, this only bounds the links.
FURTHEST = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class DayLink:
    weekday: str
    label: str
    free: int
    url: str
    selected: bool


@dataclass(frozen=True, slots=True)
class SlotChoice:
    value: str  # the start in UTC, ISO 8601 with Z: what the next step receives
    label: str


@dataclass(frozen=True, slots=True)
class SlotStep:
    zone_name: str
    zone_label: str
    zone_options: tuple[tuple[str, str], ...]
    detect_zone: bool  # the zone is the page's default: the browser may name its own
    days: tuple[DayLink, ...]
    day: str | None  # the chosen day, written out in full
    day_value: str | None
    slots: tuple[SlotChoice, ...]
    previous_week: str | None
    next_week: str | None


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def slot_step(
    runtime: Runtime,
    business_id: str,
    service_id: str,
    *,
    zone: ConsumerZone,
    language: str,
    staff_id: str | None,
    week: str | None,
    day: str | None,
    path: str,
    params: Mapping[str, str | None],
    moving: str | None = None,
) -> SlotStep:
    """The step for the week starting `week` (default today, in the consumer's zone);
    links go to `path` with `params` (staff, zone) kept."""
    today = runtime.clock.now().astimezone(zone.zone).date()
    first = min(max(parse_day(week) or today, today), today + FURTHEST)
    by_day = week_slots(
        runtime.db,
        runtime.clock,
        business_id,
        service_id,
        first_day=first,
        days=DAYS_SHOWN,
        zone=zone.zone,
        staff_id=staff_id,
        moving=moving,
    )
    chosen = parse_day(day)
    if chosen not in by_day or not by_day.get(chosen):
        chosen = next((item for item, starts in by_day.items() if starts), None)
    week_params = {**params, "week": first.isoformat()}
    days = tuple(
        DayLink(
            weekday=dates.format_date(item, "EEE", locale=i18n.locale(language)),
            label=dates.format_skeleton("MMMd", item, locale=i18n.locale(language)),
            free=len(starts),
            url=with_query(path, {**week_params, "day": item.isoformat()}),
            selected=item == chosen,
        )
        for item, starts in by_day.items()
    )
    starts = by_day.get(chosen, ()) if chosen else ()
    noon = datetime.combine(chosen or first, time(12), tzinfo=zone.zone)
    return SlotStep(
        zone_name=zone.name,
        zone_label=i18n.zone_label(zone.zone, language, at=noon),
        zone_options=zone_options(zone.name),
        detect_zone=not zone.asked,
        days=days,
        day=dates.format_date(chosen, "full", locale=i18n.locale(language)) if chosen else None,
        day_value=chosen.isoformat() if chosen else None,
        slots=tuple(
            SlotChoice(utc_value(start), i18n.format_time(start, zone.zone, language))
            for start in starts
        ),
        previous_week=(
            with_query(path, {**params, "week": (first - timedelta(days=DAYS_SHOWN)).isoformat()})
            if first > today
            else None
        ),
        next_week=(
            with_query(path, {**params, "week": (first + timedelta(days=DAYS_SHOWN)).isoformat()})
            if first + timedelta(days=DAYS_SHOWN) <= today + FURTHEST
            else None
        ),
    )


def utc_value(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_start(text: str | None) -> datetime | None:
    """A start as the slot step wrote it (UTC with Z); None for anything else."""
    if not text or len(text) > 32:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
