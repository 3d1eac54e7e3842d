"""No API route escapes the role check: each one depends on a `Require(operation)`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from openvisit.auth import access
from openvisit.graph.api import VERSION_PREFIXES, graph_router
from openvisit.graph.deps import Require


def _required(dependant: Dependant) -> list[access.Operation]:
    found = [dependant.call.operation] if isinstance(dependant.call, Require) else []
    for sub in dependant.dependencies:
        found += _required(sub)
    return found


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, looking into included routers (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)
        elif hasattr(route, "routes"):
            yield from _api_routes(route.routes)


def test_every_api_route_names_one_operation_of_the_table(app):
    # The app serves the API through graph_router() only: nothing else under a version.
    outside = [
        route.path
        for route in app.routes
        if isinstance(route, APIRoute) and route.path.startswith(VERSION_PREFIXES)
    ]
    assert outside == []
    named = {}
    routes = list(_api_routes(graph_router().routes))
    for route in routes:
        operations = _required(route.dependant)
        assert len(operations) == 1, (route.path, route.methods, operations)
        assert operations[0] in access.OPERATIONS
        assert route.methods, route.path
        named[route.path, *sorted(route.methods)] = operations[0].name

    assert len(routes) > 50
    # Every operation of the table guards at least one route.
    assert set(named.values()) == {operation.name for operation in access.OPERATIONS}
