"""The visit pages: the join link's device check, waiting room and call, and the staff
side (the provider's call page and the day board). See docs/visit-pages.md."""

from __future__ import annotations

from fastapi import APIRouter

from openvisit.web.rendering import PageRoute
from openvisit.web.visits import join, staff

router = APIRouter(include_in_schema=False, route_class=PageRoute)
router.include_router(join.router)
router.include_router(staff.router)
