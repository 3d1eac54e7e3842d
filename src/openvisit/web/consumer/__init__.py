"""Pages for consumers, who have no account: the booking page and the manage link.

`booking` serves /book/{businessId}/... (Graph's publicUrl and webUrl), `manage` serves
/manage/{token}/..., `documents` /manage/{token}/documents; all call the booking
services and render through `rendering` (gettext domain `pages`, one environment per
language). See docs/booking-pages.md and docs/documents.md.
"""

from __future__ import annotations

from fastapi import APIRouter

from openvisit.web.consumer import booking, documents, manage
from openvisit.web.rendering import PageRoute

router = APIRouter(include_in_schema=False, route_class=PageRoute)
router.include_router(booking.router)
router.include_router(manage.router)
router.include_router(documents.router)
