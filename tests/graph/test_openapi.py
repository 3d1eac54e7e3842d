"""The OpenAPI document covers every API operation in Graph's terms (operation names, error
envelope, OData options, scopes), and the service reports health."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from fastapi.routing import APIRoute

from openvisit.graph.api import RESOURCE_ROUTERS, VERSION_PREFIXES
from openvisit.graph.openapi import OPERATIONS, GraphError
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
            assert route.methods, route.path
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
        headers={**auth, "content-type": "application/json", "client-request-id": "big-1"},
    )

    def chunks() -> Iterator[bytes]:
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
        # The same envelope as every other refusal: its request id is the header's.
        inner = response.json()["error"]["innerError"]
        assert inner["request-id"] == response.headers["request-id"]
        assert inner["date"].endswith("Z")
    assert declared.json()["error"]["innerError"]["client-request-id"] == "big-1"


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def _graph_routes() -> list[APIRoute]:
    return [
        route
        for router in RESOURCE_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
    ]


def test_operations_are_named_after_graphs_operations(client):
    spec = client.get("/openapi.json").json()
    ids = {
        (method, path): operation["operationId"] for path, method, operation in _operations(spec)
    }

    assert [route.name for route in _graph_routes() if route.name not in OPERATIONS] == []
    assert ids[("get", f"{BUSINESSES}")] == "bookingBusiness_List"
    assert ids[("get", f"{BUSINESSES}/{{business_id}}")] == "bookingBusiness_Get"
    assert ids[("post", f"{BUSINESSES}/{{business_id}}/publish")] == "bookingBusiness_Publish"
    cancel = f"{BUSINESSES}/{{business_id}}/appointments/{{appointment_id}}/cancel"
    assert ids[("post", cancel)] == "bookingAppointment_Cancel"
    assert ids[("post", cancel.replace("/v1.0/", "/beta/"))] == "beta_bookingAppointment_Cancel"
    assert ids[("get", "/v1.0/solutions/bookingCurrencies")] == "bookingCurrency_List"
    assert len(set(ids.values())) == len(ids)


def test_errors_are_documented_as_graphs_envelope_never_422(client, make_token):
    spec = client.get("/openapi.json").json()
    read_only = {"Authorization": f"Bearer {make_token('Bookings.Read.All')}"}
    refused = client.post(BUSINESSES, headers=read_only, json={"displayName": "X"})
    invalid = client.get(f"{BUSINESSES}?$top=x", headers=read_only)

    assert "422" not in json.dumps(spec)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, method, operation in _operations(spec):
        if "security" not in operation:
            continue  # health checks
        statuses = {"400", "401", "403", "404"} | ({"409"} if method != "get" else set())
        documented = {
            status: response["content"]["application/json"]["schema"]["$ref"]
            for status, response in operation["responses"].items()
            if status[0] == "4"
        }
        assert documented == dict.fromkeys(statuses, "#/components/schemas/GraphError"), path
    # The documented schema is the model the real answers validate against.
    for response in (refused, invalid):
        assert response.status_code in (400, 403)
        GraphError.model_validate(response.json())
    assert spec["components"]["schemas"]["GraphErrorDetail"]["required"] == [
        "code",
        "message",
        "innerError",
    ]


def test_odata_query_options_are_declared_where_they_work(client):
    spec = client.get("/openapi.json").json()
    parameters = spec["components"]["parameters"]

    def options(path: str, method: str = "get") -> list[str]:
        refs = [p.get("$ref", "") for p in spec["paths"][path][method].get("parameters", [])]
        return [parameters[ref.rsplit("/", 1)[1]]["name"] for ref in refs if ref]

    odata = ["$filter", "$orderby", "$top", "$skip", "$count", "$select"]
    assert options(BUSINESSES) == odata
    assert options(f"{BUSINESSES}/{{business_id}}/customers") == odata
    assert options(f"{BUSINESSES}/{{business_id}}/appointments") == odata
    assert options(f"{BUSINESSES}/{{business_id}}") == ["$select"]
    assert options(f"{BUSINESSES}/{{business_id}}/services/$count") == ["$filter"]
    assert options("/v1.0/solutions/bookingCurrencies") == ["$top", "$skip", "$count", "$select"]
    assert options(f"{BUSINESSES}/{{business_id}}/publish", "post") == []
    assert parameters["odata_top"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 1000}


def test_each_operation_declares_the_scope_its_route_checks(client, make_token, runtime):
    spec = client.get("/openapi.json").json()
    by_id = {operation["operationId"]: operation for _, _, operation in _operations(spec)}

    def scope(operation_id: str) -> list[str]:
        [requirement] = by_id[operation_id]["security"]
        scopes: list[str] = requirement["HTTPBearer"]
        return scopes

    assert scope("bookingBusiness_List") == ["Bookings.Read.All"]
    assert scope("bookingBusiness_Create") == ["Bookings.Manage.All"]
    assert scope("bookingBusiness_Update") == ["Bookings.ReadWrite.All"]
    assert scope("bookingAppointment_Cancel") == ["BookingsAppointment.ReadWrite.All"]
    assert scope("user_Get") == ["User.Read"]
    assert "Least scope: `Bookings.Manage.All`." in by_id["bookingBusiness_Create"]["description"]
    # The documented scope is the one enforced: it opens the operation, one below does not.
    business = make_business(runtime)
    for granted, status in (("Bookings.ReadWrite.All", 403), ("Bookings.Manage.All", 204)):
        headers = {"Authorization": f"Bearer {make_token(granted)}"}
        answer = client.post(f"{BUSINESSES}/{business}/publish", headers=headers)
        assert answer.status_code == status
