"""Pieces both consumer flows show: the appointment summary and the answers that are not
the page asked for (not found, too many requests, busy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from babel import numbers, units
from fastapi import Request, Response

from openvisit import i18n
from openvisit.bookings.page_limits import count_post
from openvisit.bookings.views import BusinessView, ServiceView
from openvisit.errors import RetryLater
from openvisit.runtime import Runtime
from openvisit.web.consumer.rendering import brand_of, gettext_for, page_language, render
from openvisit.web.consumer.zones import ConsumerZone

# Refusals that mean "this time cannot be had": the slot step is shown again, fresh.
SLOT_REASONS = frozenset(
    {
        "leadTimeNotMet",
        "beyondMaximumAdvance",
        "outsideWorkingHours",
        "notEnoughSeats",
        "slotTaken",
        "staffUnavailable",
        "noStaffForService",
        "staffNotOffered",
    }
)


def summary(
    *,
    service_name: str,
    start: datetime,
    end: datetime,
    zone: ConsumerZone,
    language: str,
    staff: Sequence[str] = (),
    anyone: bool = False,
) -> dict[str, Any]:
    """What, when (in the consumer's zone, labelled) and with whom."""
    return {
        "service": service_name,
        "date": i18n.format_date(start, zone.zone, language),
        "time": f"{i18n.format_time(start, zone.zone, language)} \u2013 "
        f"{i18n.format_time(end, zone.zone, language)}",
        "zone": i18n.zone_label(zone.zone, language, at=start),
        "staff": ", ".join(staff),
        "anyone": anyone and not staff,
    }


def duration_text(seconds: int, language: str) -> str:
    """A length as exact as it was set: "2 days", "36 hours", "90 minutes"."""
    for unit, size in (("duration-day", 86400), ("duration-hour", 3600)):
        if seconds >= size and seconds % size == 0:
            return units.format_unit(seconds // size, unit, locale=i18n.locale(language))
    return units.format_unit(seconds // 60, "duration-minute", locale=i18n.locale(language))


def price_text(service: ServiceView, currency: str, language: str) -> str | None:
    """The price when the service has a fixed one (other price types say nothing exact)."""
    if service.default_price_type != "fixedPrice":
        return None
    return numbers.format_currency(service.default_price, currency, locale=i18n.locale(language))


def not_found(
    request: Request,
    runtime: Runtime,
    *,
    business: BusinessView | None = None,
    message: str | None = None,
) -> Response:
    """The 404 page: branded when the business exists and is published."""
    shown = business if business is not None and business.is_published else None
    language = page_language(request, shown.language_tag if shown else None)
    _ = gettext_for(language)
    context = {
        "brand": brand_of(shown),
        "title": _("Page not found"),
        "message": message or _("There is no booking page at this address."),
    }
    return render(
        request,
        runtime,
        "message.html",
        context,
        language=language,
        here=request.url.path,
        status_code=404,
    )


def retry_later(
    request: Request,
    runtime: Runtime,
    refused: RetryLater,
    *,
    business: BusinessView | None,
    back: str,
) -> Response:
    """429 (this address posted too often) or 503 (the server is busy), with Retry-After."""
    language = page_language(request, business.language_tag if business else None)
    _ = gettext_for(language)
    if refused.status == 429:
        title = _("Too many attempts")
        minutes = max(1, math.ceil(refused.retry_after_seconds / 60))
        ngettext = i18n.translations(language, "pages").ngettext
        message = ngettext(
            "There were too many requests from your network. Please try again in %(num)d minute.",
            "There were too many requests from your network. Please try again in %(num)d minutes.",
            minutes,
        ) % {"num": minutes}
    else:
        title = _("Please try again")
        message = _("The server is busy at the moment. Please try again in a moment.")
    context = {"brand": brand_of(business), "title": title, "message": message, "back": back}
    response = render(
        request,
        runtime,
        "message.html",
        context,
        language=language,
        here=back,
        status_code=refused.status,
    )
    response.headers["Retry-After"] = str(refused.retry_after_seconds)
    return response


def throttled(
    request: Request,
    runtime: Runtime,
    address: str | None,
    *,
    business: BusinessView | None,
    back: str,
) -> Response | None:
    """Count a form post against the client address: the 429 page when it is one too many."""
    try:
        count_post(runtime.db, runtime.clock.now(), address)
    except RetryLater as refused:
        return retry_later(request, runtime, refused, business=business, back=back)
    return None
