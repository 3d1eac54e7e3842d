""".../staffMembers/{id}/openvisit.calendarFeed: a staff member's secret iCalendar feed.

An OpenVisit extension (Graph has no such resource) under Graph's conventions: POST
makes the feed, or replaces its URL (rotation), and answers 201 with the URL, the only
time it is shown, like a token; GET says whether one exists, with its prefix and times,
never the URL; DELETE revokes it (204). docs/api.md describes it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.bookings import calendar_feeds
from openvisit.bookings.calendar_feeds import FeedInfo
from openvisit.graph.deps import Require, RuntimeDep
from openvisit.graph.responses import context_url, public_url, timestamp
from openvisit.graph.schemas.types import GraphModel

router = APIRouter(
    prefix="/solutions/bookingBusinesses/{business_id}/staffMembers/{staff_id}",
    tags=["openvisit.calendarFeed"],
)
Manager = Annotated[Caller, Depends(Require(access.CALENDAR_FEED_MANAGE))]
SEGMENT = "openvisit.calendarFeed"
ENTITY = "openvisit.calendarFeed/$entity"


class CalendarFeedOut(GraphModel):
    staff_member_id: str
    exists: bool
    prefix: str | None = None
    created_date_time: str | None = None
    last_read_date_time: str | None = None
    url: str | None = None


def _json(request: Request, staff_id: str, info: FeedInfo | None) -> dict[str, Any]:
    return {
        "@odata.context": context_url(request, ENTITY),
        "staffMemberId": staff_id,
        "exists": info is not None,
        "prefix": info.prefix if info else None,
        "createdDateTime": timestamp(info.created_date_time) if info else None,
        "lastReadDateTime": timestamp(info.last_read_date_time) if info else None,
    }


@router.post(f"/{SEGMENT}", status_code=201, responses={201: {"model": CalendarFeedOut}})
def create_calendar_feed(
    request: Request, business_id: str, staff_id: str, runtime: RuntimeDep, caller: Manager
) -> Any:
    """Make the staff member's feed URL, or replace it; the answer shows it this once."""
    access.check_own_calendar_feed(caller, staff_id)
    made = calendar_feeds.create_feed(
        runtime.db, runtime.clock, business_id, staff_id, actor=caller.actor
    )
    url = public_url(request, calendar_feeds.feed_path(made.token))
    return {**_json(request, staff_id, made.info), "url": url}


@router.get(f"/{SEGMENT}", responses={200: {"model": CalendarFeedOut}})
def get_calendar_feed(
    request: Request, business_id: str, staff_id: str, runtime: RuntimeDep, caller: Manager
) -> Any:
    """Whether the staff member has a feed, its prefix and times (never its URL)."""
    access.check_own_calendar_feed(caller, staff_id)
    info = calendar_feeds.get_feed(runtime.db, business_id, staff_id)
    return _json(request, staff_id, info)


@router.delete(f"/{SEGMENT}", status_code=204, response_class=Response)
def revoke_calendar_feed(
    business_id: str, staff_id: str, runtime: RuntimeDep, caller: Manager
) -> Response:
    """Revoke the feed URL: calendars subscribed to it get 404 from now on."""
    access.check_own_calendar_feed(caller, staff_id)
    calendar_feeds.revoke_feed(runtime.db, runtime.clock, business_id, staff_id, actor=caller.actor)
    return Response(status_code=204)
