"""Run the real ASGI app under uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

START_TIMEOUT_SECONDS = 10
# The Redis scripts/ensure-services runs. `serve --workers N` on SQLite needs it: the
# event bus must cross processes (docs/events.md).
SHARED_REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Yield the base URL (http://127.0.0.1:PORT) while the server runs."""
    port = free_port()
    # A server's links name the address it is reached at, as OPENVISIT_BASE_URL would.
    app.state.runtime = replace(app.state.runtime, base_url=f"http://127.0.0.1:{port}")
    with serve_asgi(app, port=port) as url:
        yield url


@contextmanager
def serve_asgi(
    app: ASGIApp, *, port: int | None = None, graceful_seconds: int | None = None
) -> Iterator[str]:
    """Any ASGI app under uvicorn on loopback; `graceful_seconds` bounds how long the end
    waits for answers still being written (a deliberately slow one, say)."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=graceful_seconds,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)


def worker_pids(parent: int) -> set[int]:
    """Children of `parent` that multiprocessing spawned (`openvisit serve`'s workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"spawn_main" in command:
            found.add(int(entry.name))
    return found


def stop_server_group(process: subprocess.Popen[bytes], *, wait_seconds: float = 10) -> None:
    """Stop `openvisit serve` started with start_new_session: gracefully, then its group.

    The SIGKILL to the group reaches workers a failed shutdown left behind.
    """
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait_seconds)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
