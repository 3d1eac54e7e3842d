"""Run `openvisit serve` as a subprocess on a loopback port, with a clean environment."""

from __future__ import annotations

import contextlib
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import TEST_SECRET
from tests.live import free_port, stop_server_group
from tests.security.cli import clean_environment

WAIT_SECONDS = 30


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def wait_for(condition: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _file_limit(soft: int, hard: int | None = None) -> Callable[[], None]:
    def apply() -> None:  # runs in the child, as `ulimit -n` would in a shell
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1] if hard is None else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, limit))

    return apply


def _preexec(file_limit: int | None, soft_file_limit: int | None) -> Callable[[], None] | None:
    """`file_limit` sets both limits (`ulimit -n`); `soft_file_limit` only the soft one."""
    if file_limit:
        return _file_limit(file_limit, file_limit)
    return _file_limit(soft_file_limit) if soft_file_limit else None


@contextlib.contextmanager
def running_server(
    folder: Path,
    *arguments: str,
    file_limit: int | None = None,
    soft_file_limit: int | None = None,
    ready_lines: int = 1,
    **settings: str,
) -> Iterator[Server]:
    """`openvisit serve --port P ARGUMENTS` with a SQLite database in `folder`."""
    port = free_port()
    log = folder / f"serve-{port}.log"
    env = clean_environment(data_dir=str(folder / "data"), secret_key=TEST_SECRET, **settings)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "openvisit", "serve", "--port", str(port), *arguments],
            env=env,
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_preexec(file_limit, soft_file_limit),  # noqa: PLW1509
        )
    server = Server(process, port, log)
    try:
        wait_for(
            lambda: (
                server.log_text().count("Application startup complete") >= ready_lines
                or process.poll() is not None
            ),
            "the server starting",
        )
        # uvicorn logs "startup complete" before it binds the socket: wait for the bind too.
        wait_for(lambda: _accepts(port) or process.poll() is not None, "the server listening")
        assert process.poll() is None, server.log_text()
        yield server
    finally:
        stop_server_group(process, wait_seconds=WAIT_SECONDS)
