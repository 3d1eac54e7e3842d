"""Two real server processes of one installation: one database, one event bus.

`server_processes` starts `python -m tests.processes <instant>` twice, on two free
loopback ports, with the OPENVISIT_* settings a real deployment would set (database URL,
secret key, Redis URL or event bus, TURN); the caller's extra settings apply to both.
Each process builds the app the way `openvisit serve` does (Settings -> build_runtime ->
create_app, lifespan on, so the hub starts the bus), except that its clock is pinned to
`instant`: the visits the tests book are on a fixed day, and a server on the real clock
would find them long over. Run as a module, this file is that server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn

from openvisit import logs
from openvisit.app import build_runtime, create_app
from openvisit.clock import FixedClock
from openvisit.config import Settings
from tests.conftest import TEST_SECRET
from tests.live import free_port, stop_server_group

START_SECONDS = 30.0  # the machine may be loaded by other browser tests


@dataclass(frozen=True)
class ServerProcess:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _wait_healthy(server: ServerProcess) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server {server.name} exited:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server {server.name} did not answer within {START_SECONDS} s")


@contextmanager
def server_process(
    name: str, folder: Path, instant: datetime, settings: Mapping[str, str]
) -> Iterator[ServerProcess]:
    port = free_port()
    data = folder / name
    data.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENVISIT_")}
    env.update(
        {
            "OPENVISIT_DATA_DIR": str(data),
            "OPENVISIT_SECRET_KEY": TEST_SECRET,
            "OPENVISIT_HOST": "127.0.0.1",
            "OPENVISIT_PORT": str(port),
            "OPENVISIT_BASE_URL": f"http://127.0.0.1:{port}",
            "OPENVISIT_LOG_LEVEL": "info",
            **settings,
        }
    )
    log = data / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.processes", instant.isoformat()],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(name, process, port, log)
    try:
        _wait_healthy(server)
        yield server
    finally:
        stop_server_group(process, wait_seconds=START_SECONDS)


@contextmanager
def server_processes(
    folder: Path, instant: datetime, settings: Mapping[str, str]
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Processes A and B, both started and answering /healthz."""
    with ExitStack() as stack:
        first = stack.enter_context(server_process("a", folder, instant, settings))
        second = stack.enter_context(server_process("b", folder, instant, settings))
        yield first, second


def bus_settings(kind: str, *, database_url: str, redis_url: str) -> dict[str, str]:
    """The settings of a PostgreSQL-backed installation whose bus is `kind`."""
    found = {"OPENVISIT_DATABASE_URL": database_url, "OPENVISIT_EVENT_BUS": kind}
    if kind == "redis":
        found["OPENVISIT_REDIS_URL"] = redis_url
    return found


def _serve(instant: str) -> None:
    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    runtime = build_runtime(settings, clock=FixedClock(datetime.fromisoformat(instant)))
    app = create_app(settings, runtime=runtime)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", lifespan="on")


if __name__ == "__main__":
    _serve(sys.argv[1])
