"""All server-rendered pages, gathered into the one router app.py includes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from openvisit.web import api_docs, consumer, feeds, outbox, sign_in, visits
from openvisit.web.redirects import STAFF_HOME
from openvisit.web.rendering import STATIC_DIR, PageRoute, StaticAssets, see_other

router = APIRouter(include_in_schema=False, route_class=PageRoute)
router.include_router(sign_in.router)
router.include_router(api_docs.router)
router.include_router(consumer.router)
router.include_router(feeds.router)
router.include_router(outbox.router)
router.include_router(visits.router)
router.mount("/static", StaticAssets(directory=STATIC_DIR), name="static")


@router.get("/")
def home() -> Response:
    return see_other(STAFF_HOME)
