"""What every visit page shares: the brand of a meeting, the time line, the script config.

The visit scripts read one JSON block, `<script type="application/json" id="visit-config">`
(data, not script: the policy's ban on inline scripts does not touch it): which page
this is, where the WebSocket and the device-check endpoints are, the RTC configuration
for the network check, and every text in the reader's language (texts.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from openvisit import i18n
from openvisit.meetings.access import MeetingSummary
from openvisit.web.consumer.rendering import Brand, environment
from openvisit.web.consumer.zones import consumer_zone
from openvisit.web.visits.texts import client_texts

SOCKET_PATH = "/realtime/v1"
# A visit's page names its people: no search engine, no referrer to elsewhere.
PRIVATE_HEADERS = {"X-Robots-Tag": "noindex"}


def meeting_brand(meeting: MeetingSummary) -> Brand | None:
    """The business's name and colours, for a meeting that belongs to one."""
    if meeting.business_id is None or not meeting.business_name:
        return None
    return Brand(
        name=meeting.business_name,
        initial=(meeting.business_name.strip()[:1] or "?").upper(),
        stylesheet=f"/book/{meeting.business_id}/brand.css",
        noindex=True,
        home=None,
    )


def when(meeting: MeetingSummary, language: str, asked_zone: str | None) -> dict[str, str]:
    """The appointment's date and time in the consumer's zone, the zone named.

    The zone is the one asked for (`?tz=`), else the one the consumer booked in, else the
    business's: the consumer reads the time as their confirmation wrote it.
    """
    zone = consumer_zone(asked_zone or meeting.customer_time_zone, meeting.business_time_zone)
    start, end = meeting.start, meeting.end
    return {
        "date": i18n.format_date(start, zone.zone, language),
        "time": f"{i18n.format_time(start, zone.zone, language)} \u2013 "
        f"{i18n.format_time(end, zone.zone, language)}",
        "zone": i18n.zone_label(zone.zone, language, at=start),
        "zoneName": zone.name,
    }


def script_config(language: str, **values: Any) -> dict[str, Any]:
    """The visit-config block: `values` plus the language and its texts."""
    translations = i18n.translations(language, "pages")
    return {
        "language": language,
        "socketPath": SOCKET_PATH,
        "texts": client_texts(translations.gettext, translations.ngettext),
        **values,
    }


def render_staff(
    request: Request, name: str, context: Mapping[str, Any], *, status_code: int = 200
) -> Response:
    """A staff visit page (English, like every staff page) from templates/visit/`name`."""
    del request  # the environment is per language, not per request
    html = (
        environment(i18n.SOURCE_LANGUAGE)
        .get_template(f"visit/{name}")
        .render({"language": i18n.SOURCE_LANGUAGE, **context})
    )
    return HTMLResponse(html, status_code=status_code, headers=PRIVATE_HEADERS)


def json_error(status: int, code: str, message: str) -> JSONResponse:
    """The error envelope the API answers with, for the pages' own JSON endpoints."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
