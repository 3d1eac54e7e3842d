"""`openvisit serve` gives uvicorn the WebSocket options cli.WEBSOCKET_OPTIONS chose, on
one worker and on several alike: no per-message compression (it would take the waiting
room past its memory budget) and a 64 KiB limit on what a client may send at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from openvisit.cli import serve_options, worker_options
from openvisit.config import Settings
from tests.live import START_TIMEOUT_SECONDS, free_port

MAX_SIZE = 64 * 1024


async def _echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


ECHO = Starlette(routes=[WebSocketRoute("/ws", _echo)])


def _one_worker(port: int) -> uvicorn.Config:
    options = serve_options(Settings(port=port, log_level="warning"))
    return uvicorn.Config(ECHO, lifespan="off", **options)


def _each_of_several_workers(port: int) -> uvicorn.Config:
    config = worker_options(Settings(port=port, workers=2, log_level="warning")).uvicorn_config()
    config.app, config.factory, config.lifespan = ECHO, False, "off"  # not openvisit's app
    return config


@contextmanager
def _served(config: uvicorn.Config) -> Iterator[str]:
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{config.port}/ws"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)


@pytest.fixture(params=[_one_worker, _each_of_several_workers], ids=["one", "workers"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with _served(request.param(free_port())) as url:
        yield url


def test_the_server_declines_per_message_compression(url):
    async def talk() -> tuple[str | None, str]:
        async with connect(url, compression="deflate") as connection:  # as browsers offer
            await connection.send("hello")
            assert connection.response is not None
            extensions = connection.response.headers.get("Sec-WebSocket-Extensions")
            return extensions, str(await connection.recv())

    assert asyncio.run(talk()) == (None, "hello")


def test_a_message_over_64_kib_closes_the_connection_with_1009(url):
    async def talk() -> tuple[str, int | None]:
        async with connect(url, compression=None, max_size=None) as connection:
            await connection.send("x" * MAX_SIZE)
            echoed = str(await connection.recv())
            await connection.send("x" * (MAX_SIZE + 1))
            with pytest.raises(ConnectionClosedError) as closed:
                await connection.recv()
            return echoed, closed.value.rcvd.code if closed.value.rcvd else None

    echoed, code = asyncio.run(talk())

    assert len(echoed) == MAX_SIZE
    assert code == 1009  # message too big
