"""The OpenAPI document covers every API operation, and the service reports health."""

from __future__ import annotations

from dataclasses import replace

from fastapi.routing import APIRoute

from openvisit.graph.api import RESOURCE_ROUTERS, VERSION_PREFIXES
from openvisit.store.db import Database
from tests.factories import BUSINESSES, make_business


def test_openapi_lists_every_api_operation(client):
    spec = client.get("/openapi.json").json()

    routes = [
        route
        for router in RESOURCE_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    assert len(routes) > 25
    for prefix in VERSION_PREFIXES:
        for route in routes:
            operations = spec["paths"].get(prefix + route.path)
            assert operations is not None, prefix + route.path
            for method in route.methods:
                assert method.lower() in operations, (method, prefix + route.path)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_openapi_documents_request_bodies_in_camel_case(client):
    spec = client.get("/openapi.json").json()

    body = spec["components"]["schemas"]["BookingServiceBody"]["properties"]
    assert {"displayName", "defaultDuration", "staffMemberIds"} <= set(body)


def test_health_and_readiness(client):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").json() == {"status": "ok", "database": "reachable"}


def test_readiness_checks_redis_when_configured(client, app, runtime):
    app.state.runtime = replace(runtime, redis_url="redis://127.0.0.1:6379/0")
    assert client.get("/readyz").json()["redis"] == "reachable"

    app.state.runtime = replace(runtime, redis_url="redis://127.0.0.1:1/0")
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["error"]["message"] == "The redis is not reachable."


def test_readiness_fails_when_the_database_is_unreachable(client, app, runtime):
    app.state.runtime = replace(
        runtime, db=Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    )

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "serviceNotAvailable"


def test_oversized_bodies_are_refused_before_parsing(client, auth, runtime):
    business = make_business(runtime)
    huge = '{"displayName": "' + "x" * 1_100_000 + '"}'

    declared = client.post(
        f"{BUSINESSES}/{business}/customers",
        content=huge,
        headers={**auth, "content-type": "application/json"},
    )

    def chunks():
        yield huge.encode()[:600_000]
        yield huge.encode()[600_000:]

    streamed = client.post(
        f"{BUSINESSES}/{business}/customers",
        content=chunks(),
        headers={**auth, "content-type": "application/json"},
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "requestEntityTooLarge"
