"""Several workers on one port: connections spread over them, a dead one is replaced."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from openvisit.workers import Supervisor, WorkerOptions, listening_socket
from tests.conftest import TEST_SECRET
from tests.live import SHARED_REDIS_URL, free_port, stop_server_group, worker_pids

WAIT_SECONDS = 30
CONNECTIONS = 64


def _sockets(pid: int) -> int:
    return sum(
        1 for fd in Path(f"/proc/{pid}/fd").iterdir() if os.readlink(fd).startswith("socket:")
    )


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {WAIT_SECONDS} s")


@contextlib.contextmanager
def _server(tmp_path: Path, workers: int) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "openvisit", "serve", "--workers", str(workers)]
    env = {
        **os.environ,
        "OPENVISIT_DATA_DIR": str(tmp_path),
        "OPENVISIT_SECRET_KEY": TEST_SECRET,
        "OPENVISIT_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "OPENVISIT_REDIS_URL": SHARED_REDIS_URL,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(
            lambda: (
                log.read_text(errors="replace").count("Application startup complete") >= workers
            ),
            f"{workers} workers starting",
        )
        yield process, port, log
    finally:
        stop_server_group(process, wait_seconds=WAIT_SECONDS)


def test_connections_spread_over_the_workers(tmp_path: Path) -> None:
    """64 connections opened at once: the kernel hands each worker a fair share."""
    with _server(tmp_path, 2) as (process, port, _log):
        first, second = sorted(worker_pids(process.pid))
        before = {pid: _sockets(pid) for pid in (first, second)}
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
        try:
            for connection in connections:  # one request each, so every one is accepted
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            for connection in connections:
                assert connection.recv(64).startswith(b"HTTP/1.1 200")
            shares = [_sockets(pid) - before[pid] for pid in (first, second)]
        finally:
            for connection in connections:
                connection.close()

    assert sum(shares) == CONNECTIONS
    # A fair coin gives fewer than 12 of 64 with odds below one in a million; uvicorn's
    # single shared socket gave one worker all 64 in a fifth of benchmark runs.
    assert min(shares) >= 12, shares


def test_a_worker_that_dies_is_replaced_and_stop_is_clean(tmp_path: Path) -> None:
    with _server(tmp_path, 2) as (process, port, log):
        victim = min(worker_pids(process.pid))
        # A worker tells the supervisor it serves within 50 ms of starting; one killed
        # before that counts as failing to start, which stops the server instead.
        time.sleep(1)
        os.kill(victim, signal.SIGKILL)

        _wait_for(
            lambda: len(worker_pids(process.pid) - {victim}) == 2,
            "a replacement worker starting",
        )
        _wait_for(
            lambda: log.read_text(errors="replace").count("Application startup complete") >= 3,
            "the replacement serving",
        )
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        assert "starting another" in log.read_text()

        process.terminate()
        assert process.wait(timeout=WAIT_SECONDS) == 0
        assert worker_pids(process.pid) == set()


def test_workers_that_cannot_start_stop_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken setting shows in every worker: stop instead of restarting in a loop."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("OPENVISIT_DATA_DIR", str(blocker / "data"))  # cannot be created
    monkeypatch.setenv("OPENVISIT_SECRET_KEY", TEST_SECRET)
    # Should the supervisor not give up, this ends the wait with a failing answer.
    timer = threading.Timer(WAIT_SECONDS, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        answer = Supervisor(WorkerOptions("127.0.0.1", free_port()), 2).run()
    finally:
        timer.cancel()

    assert answer == 1


def test_a_port_held_by_another_program_is_refused_at_once(tmp_path: Path) -> None:
    with socket.socket() as holder:  # no SO_REUSEPORT: nobody may share the port
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        assert Supervisor(WorkerOptions("127.0.0.1", port), 2).run() == 1
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", port)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sighup_replaces_the_workers_and_sigint_stops_them(tmp_path: Path) -> None:
    with _server(tmp_path, 2) as (process, port, log):
        old = worker_pids(process.pid)
        os.kill(process.pid, signal.SIGHUP)

        _wait_for(lambda: "Reloaded" in log.read_text(), "the reload finishing")
        new = worker_pids(process.pid)
        assert process.poll() is None  # the supervisor lives on
        assert len(new) == 2
        assert not new & old
        assert not any(_alive(pid) for pid in old)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=WAIT_SECONDS) == 0
        assert not any(_alive(pid) for pid in new)


def test_workers_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    with _server(tmp_path, 2) as (process, port, _log):
        workers = worker_pids(process.pid)
        os.kill(process.pid, signal.SIGKILL)  # no chance to stop them itself
        process.wait(timeout=WAIT_SECONDS)

        _wait_for(lambda: not any(_alive(pid) for pid in workers), "the workers exiting")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)


def _second_serve(data_dir: Path, port: int) -> tuple[int, str]:
    """Exit status and standard error of another `openvisit serve --workers 2`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENVISIT_")}
    env |= {
        "OPENVISIT_DATA_DIR": str(data_dir),
        "OPENVISIT_SECRET_KEY": TEST_SECRET,
        "OPENVISIT_REDIS_URL": SHARED_REDIS_URL,
    }
    command = [sys.executable, "-m", "openvisit", "serve", "--workers", "2", "--port", str(port)]
    with subprocess.Popen(
        command,
        env=env,
        cwd=data_dir.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as second:
        try:
            _out, error = second.communicate(timeout=WAIT_SECONDS)
        finally:  # not refused: it serves; stop it and its workers
            with contextlib.suppress(ProcessLookupError):
                os.killpg(second.pid, signal.SIGKILL)
    return second.wait(), error


def test_a_second_server_on_the_same_port_or_data_folder_is_refused(tmp_path: Path) -> None:
    with _server(tmp_path, 2) as (process, port, _log):
        other_folder = tmp_path / "other"
        other_folder.mkdir()
        same_port = _second_serve(other_folder, port)
        same_folder = _second_serve(tmp_path, free_port())

        assert process.poll() is None
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200

    assert same_port[0] == 2, same_port[1]
    assert same_port[1].startswith("openvisit: ")
    assert f"127.0.0.1:{port}" in same_port[1]
    assert "Traceback" not in same_port[1]
    assert same_folder[0] == 2, same_folder[1]
    assert same_folder[1].startswith("openvisit: ")
    assert "data folder" in same_folder[1]
    assert "OPENVISIT_DATA_DIR" in same_folder[1]
