"""The server builds the bus its settings name and runs it for the app's lifetime."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response  # the client starlette.testclient is built on

from openvisit.app import create_app
from openvisit.bus import BusNotRunningError, EventBus, InProcessEventBus
from openvisit.bus.postgres import PostgresEventBus
from openvisit.bus.redis import RedisEventBus
from openvisit.config import Settings
from tests.bus.conftest import WAIT_SECONDS
from tests.conftest import TEST_SECRET


def _settings(tmp_path, **values: Any) -> Settings:
    return Settings(
        data_dir=tmp_path, secret_key=TEST_SECRET, notifications_in_server=False, **values
    )


@pytest.mark.parametrize("kind", ["inprocess", "redis", "postgres"])
def test_the_lifespan_starts_the_chosen_bus_and_stops_it(kind, tmp_path, request):
    values: dict[str, Any] = {}
    if kind == "redis":
        values["redis_url"] = request.getfixturevalue("redis_server").url
    if kind == "postgres":
        values["database_url"] = request.getfixturevalue("postgres_database").url
    app = create_app(_settings(tmp_path, **values))
    events: EventBus = app.state.runtime.events
    assert (
        type(events)
        is {
            "inprocess": InProcessEventBus,
            "redis": RedisEventBus,
            "postgres": PostgresEventBus,
        }[kind]
    )
    with TestClient(app) as client:
        assert client.portal is not None
        # Running for the app's life (started by the realtime hub, its receiver).
        client.portal.call(events.subscribe, "meeting:1")
        client.portal.call(events.publish, "meeting:1", "{}")

    with pytest.raises(BusNotRunningError):
        asyncio.run(events.publish("meeting:1", "{}"))


def test_readiness_still_pings_the_configured_redis(tmp_path, redis_server):
    app = create_app(_settings(tmp_path, redis_url=redis_server.url))

    with TestClient(app) as client:
        answer = client.get("/readyz")

    assert answer.status_code == 200
    assert answer.json()["redis"] == "reachable"


def _ready_answer(client: TestClient, wanted: int) -> Response:
    """Ask /readyz until it answers `wanted` (the bus notices a loss, or reconnects)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        answer = client.get("/readyz")
        if answer.status_code == wanted or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_readiness_follows_the_event_bus_connection(tmp_path, own_redis_server):
    app = create_app(_settings(tmp_path, redis_url=own_redis_server.url))

    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ok",
            "database": "reachable",
            "eventBus": "connected",
            "redis": "reachable",
        }

        own_redis_server.stop()
        down = _ready_answer(client, 503)
        assert down.status_code == 503
        error = down.json()["error"]
        assert error["innerError"]["code"] == "eventBusDisconnected"
        assert error["message"].startswith("The event bus (redis) is disconnected")
        assert down.headers["Retry-After"] == "5"

        own_redis_server.start()  # the same port: the bus reconnects by itself
        back = _ready_answer(client, 200)
        assert back.status_code == 200, back.text
        assert back.json()["eventBus"] == "connected"
