"""The REST API: every Graph resource router under /v1.0 and /beta."""

from __future__ import annotations

from fastapi import APIRouter

from openvisit.graph import (
    appointments,
    availability,
    batch,
    businesses,
    calendar_feeds,
    currencies,
    customers,
    documents,
    me,
    meeting_actions,
    notifications,
    online_meetings,
    questions,
    services,
    staff,
)

VERSION_PREFIXES = ("/v1.0", "/beta")
# FastAPI tries routes in order, one regex each, so the calls consumers make all day
# (booking, slots) come before the office manager's settings: measured, a booking
# request was routed in 145 instead of 267 us. Literal segments win over parameters
# whatever the order (tests/graph/test_routing.py), so it changes nothing else.
RESOURCE_ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        appointments,
        availability,
        businesses,
        services,
        staff,
        customers,
        questions,
        calendar_feeds,
        documents,
        currencies,
        me,
        online_meetings,
        meeting_actions,
        notifications,
        batch,
    )
)


def graph_router() -> APIRouter:
    root = APIRouter()
    for prefix in VERSION_PREFIXES:
        version = APIRouter(prefix=prefix)
        for router in RESOURCE_ROUTERS:
            version.include_router(router)
        root.include_router(version)
    return root
