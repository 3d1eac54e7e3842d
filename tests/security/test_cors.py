"""CORS: nothing cross-origin by default; listed origins get preflights and readable headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from openvisit.app import create_app
from openvisit.config import Settings

APP_ORIGIN = "https://scheduler.example.com"
PATH = "/v1.0/solutions/bookingBusinesses"


def _client(runtime, tmp_path, **settings) -> TestClient:
    configured = Settings(data_dir=tmp_path / "data", secret_key="x" * 48, **settings)
    return TestClient(create_app(configured, runtime=runtime))


def _preflight(client: TestClient, origin: str):
    return client.options(
        PATH,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, prefer",
        },
    )


def test_no_origin_is_allowed_by_default(runtime, tmp_path, auth):
    client = _client(runtime, tmp_path)

    preflight = _preflight(client, APP_ORIGIN)
    read = client.get(PATH, headers={**auth, "Origin": APP_ORIGIN})

    assert "access-control-allow-origin" not in preflight.headers
    assert read.status_code == 200
    assert "access-control-allow-origin" not in read.headers


def test_a_listed_origin_gets_its_preflight_and_reads_the_request_id(runtime, tmp_path, auth):
    client = _client(runtime, tmp_path, cors_origins=f"{APP_ORIGIN}, http://localhost:3000")

    preflight = _preflight(client, APP_ORIGIN)
    read = client.get(PATH, headers={**auth, "Origin": APP_ORIGIN})
    refused = client.get(PATH, headers={"Origin": APP_ORIGIN})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "prefer"} <= set(allowed.replace(" ", "").split(","))
    assert "access-control-allow-credentials" not in preflight.headers
    assert read.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "request-id" in read.headers["access-control-expose-headers"].lower()
    # A refusal is readable too, so a browser client can show the Graph error.
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == APP_ORIGIN


def test_an_unlisted_origin_is_not_allowed(runtime, tmp_path, auth):
    client = _client(runtime, tmp_path, cors_origins=APP_ORIGIN)

    preflight = _preflight(client, "https://evil.example")
    read = client.get(PATH, headers={**auth, "Origin": "https://evil.example"})

    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in read.headers


@pytest.mark.parametrize(
    "value", ["*", "scheduler.example.com", "https://a.example/path", "ftp://a.example"]
)
def test_a_setting_that_is_not_an_origin_stops_the_start(tmp_path, value):
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(data_dir=tmp_path, cors_origins=value)
