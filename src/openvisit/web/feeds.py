"""GET /feeds/staff/<token>.ics: a staff member's calendar, for calendar apps to poll.

The token in the path is the only credential (bookings/calendar_feeds.py): calendar apps
cannot send a session or a bearer token. An unknown or revoked token answers a plain
404, the same for both, so a guess learns nothing. The answer carries an ETag, and a
poll that sends it back gets 304 without the body; it may be kept privately for five
minutes, never by a shared cache, and is never indexed.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from openvisit.bookings import calendar_feeds
from openvisit.web.deps import RuntimeDep
from openvisit.web.rendering import PageRoute

router = APIRouter(route_class=PageRoute)
CALENDAR_TYPE = "text/calendar; charset=utf-8"
CACHE_CONTROL = "private, max-age=300"


@router.api_route("/feeds/staff/{token}.ics", methods=["GET", "HEAD"])
async def staff_calendar_feed(request: Request, token: str, runtime: RuntimeDep) -> Response:
    body = await run_in_threadpool(
        calendar_feeds.read_feed,
        runtime.db,
        runtime.clock,
        token,
        uid_domain=runtime.business_id_domain,
    )
    if body is None:
        return Response("No calendar feed at this address.\n", 404, media_type="text/plain")
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": tag,
        "Cache-Control": CACHE_CONTROL,
        "X-Robots-Tag": "noindex",
        "Content-Disposition": 'inline; filename="calendar.ics"',
    }
    if tag in _tags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type=CALENDAR_TYPE)


def _tags(header: str) -> set[str]:
    return {item.strip().removeprefix("W/") for item in header.split(",") if item.strip()}
