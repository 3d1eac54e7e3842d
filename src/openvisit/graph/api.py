"""The REST API: every Graph resource router under /v1.0 and /beta."""

from __future__ import annotations

from fastapi import APIRouter

from openvisit.graph import (
    appointments,
    availability,
    businesses,
    currencies,
    customers,
    me,
    questions,
    services,
    staff,
)

VERSION_PREFIXES = ("/v1.0", "/beta")
RESOURCE_ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        businesses,
        services,
        staff,
        customers,
        questions,
        appointments,
        availability,
        currencies,
        me,
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
