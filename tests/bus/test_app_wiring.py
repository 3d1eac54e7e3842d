"""The server builds the bus its settings name and runs it for the app's lifetime."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openvisit.app import create_app
from openvisit.bus import BusNotRunningError, EventBus, InProcessEventBus
from openvisit.bus.postgres import PostgresEventBus
from openvisit.bus.redis import RedisEventBus
from openvisit.config import Settings
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
