"""Pages for consumers, who have no account: the booking page and the manage link.

`booking` serves /book/{businessId}/... (Graph's publicUrl and webUrl), `manage` serves
/manage/{token}/...; both call the booking services and render through `rendering`
(gettext domain `pages`, one environment per language). See docs/booking-pages.md.
"""

from __future__ import annotations

from fastapi import APIRouter

from openvisit.web.consumer import booking, manage
from openvisit.web.rendering import PageRoute

router = APIRouter(include_in_schema=False, route_class=PageRoute)
router.include_router(booking.router)
router.include_router(manage.router)
