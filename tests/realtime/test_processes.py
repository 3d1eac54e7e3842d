"""One visit across two server processes joined by the event bus, over /realtime/v1.

The consumer's WebSocket is on process A and the provider's on process B; both
processes share one PostgreSQL database and one bus (a private redis-server, or
PostgreSQL LISTEN/NOTIFY). Lobby position, arrival, admit, signaling, chat and the end
must all cross from one process to the other. The browser version is
tests/e2e/test_visit_processes_browser.py; `serve --workers 2` without a bus that crosses
processes is refused (tests/test_cli.py, test_serve_refuses_several_workers_...).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from openvisit.auth.sessions import SESSION_COOKIE
from openvisit.store.db import Database
from tests.bus.servers import RedisServer
from tests.databases import PostgresDatabase
from tests.processes import ServerProcess, bus_settings, server_processes
from tests.realtime.conftest import MORNING
from tests.visits import Visit

READ_SECONDS = 10.0


@pytest.fixture
def database(postgres_database: PostgresDatabase) -> Iterator[Database]:
    """Two processes share one database: PostgreSQL (SQLite is for one host's workers)."""
    with postgres_database.database() as database:
        yield database


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["redis", "postgres"])
def servers(
    request: pytest.FixtureRequest,
    postgres_database: PostgresDatabase,
    visit: Visit,
    tmp_path: Path,
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    redis_url = request.getfixturevalue("private_redis").url if request.param == "redis" else ""
    settings = bus_settings(request.param, database_url=postgres_database.url, redis_url=redis_url)
    settings["OPENVISIT_SESSION_MAX_AGE_SECONDS"] = str(24 * 3600)
    with server_processes(tmp_path, MORNING, settings) as pair:
        yield pair


class Socket:
    """One page's connection to one process: frames in order, pings skipped."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    def send(self, frame: dict[str, Any]) -> None:
        self.connection.send(json.dumps(frame))

    def until(
        self,
        frame_type: str,
        check: Callable[[dict[str, Any]], bool] = lambda _f: True,
        **fields: Any,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + READ_SECONDS
        seen = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame: dict[str, Any] = json.loads(self.connection.recv(timeout=left))
            except TimeoutError:
                break
            seen.append(frame["type"])
            if (
                frame["type"] == frame_type
                and all(frame.get(k) == v for k, v in fields.items())
                and check(frame)
            ):
                return frame
        raise AssertionError(f"no {frame_type} {fields} within {READ_SECONDS} s; saw {seen}")

    def hello(self, **fields: Any) -> dict[str, Any]:
        self.send({"type": "hello", "v": 1, **fields})
        return self.until("welcome")


def said(text: str) -> Callable[[dict[str, Any]], bool]:
    """A chat frame carrying `text` (each sender also gets its own message back)."""
    return lambda frame: bool(frame["message"]["text"] == text)


@contextmanager
def socket_to(server: ServerProcess, cookie: str | None = None) -> Iterator[Socket]:
    headers = {"cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else None
    url = f"ws://127.0.0.1:{server.port}/realtime/v1"
    origin = Origin(server.base_url)
    with connect(url, origin=origin, additional_headers=headers) as connection:
        yield Socket(connection)


def test_a_visit_crosses_two_processes(servers, visit: Visit) -> None:
    first, second = servers
    with (
        socket_to(first) as consumer,
        socket_to(second, visit.provider_cookie) as provider,
    ):
        staff = provider.hello(meeting=visit.meeting_id)
        provider_id = staff["you"]["participantId"]
        assert staff["snapshot"]["lobby"]["waiting"] == []

        # The consumer arrives on A: first in line; B's provider hears of it.
        welcome = consumer.hello(join=visit.consumer_token)
        consumer_id = welcome["you"]["participantId"]
        assert welcome["snapshot"]["state"] == "lobby"
        assert consumer.until("lobby")["position"] == 1
        # (B's own welcome is followed by the empty list; the consumer's arrival fills it.)
        arrived = provider.until("waiting", check=lambda frame: bool(frame["waiting"]))
        assert [w["participantId"] for w in arrived["waiting"]] == [consumer_id]

        # Lobby chat from A reaches B, and back.
        consumer.send({"type": "chat.send", "text": "I am here.", "clientMessageId": "c1"})
        assert provider.until("chat", check=said("I am here."))
        provider.send(
            {
                "type": "lobby.reply",
                "participantId": consumer_id,
                "text": "One moment.",
                "clientMessageId": "p1",
            }
        )
        assert consumer.until("chat", check=said("One moment."))

        # Admitted from B: A's consumer enters the call with the provider in it.
        provider.send({"type": "admit", "id": "a1", "participantId": consumer_id})
        assert provider.until("ack", id="a1")["id"] == "a1"
        consumer.until("admitted")
        in_call = consumer.until("snapshot")["snapshot"]
        assert in_call["state"] == "call"
        assert sorted(p["participantId"] for p in in_call["participants"]) == sorted(
            [consumer_id, provider_id]
        )

        # Signaling both ways, addressed across processes.
        offer = {"type": "offer", "sdp": "v=0 offer"}
        consumer.send({"type": "signal", "to": provider_id, "description": offer})
        relayed = provider.until("signal")
        assert (relayed["from"], relayed["description"]) == (consumer_id, offer)
        answer = {"type": "answer", "sdp": "v=0 answer"}
        provider.send({"type": "signal", "to": consumer_id, "description": answer})
        assert consumer.until("signal")["description"] == answer

        # Call chat both ways.
        provider.send({"type": "chat.send", "text": "Can you hear me?", "clientMessageId": "p2"})
        assert consumer.until("chat", check=said("Can you hear me?"))
        consumer.send({"type": "chat.send", "text": "Yes.", "clientMessageId": "c2"})
        assert provider.until("chat", check=said("Yes."))

        # The provider on B ends it for everyone: A's consumer is told.
        provider.send({"type": "end", "id": "e1"})
        consumer.until("ended")
