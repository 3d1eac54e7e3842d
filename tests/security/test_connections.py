"""Idle, slow and surplus connections cannot keep a real client from being served."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.security.server import running_server, wait_for

IDLE_SOCKETS = 2000
SERVER_FILE_LIMIT = 1024


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """True if the server closes `sock` (recv sees EOF or a reset) within `within` s."""
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


@contextlib.contextmanager
def _raised_file_limit(needed: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, needed))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_idle_sockets_beyond_the_file_limit_do_not_starve_a_client(tmp_path: Path) -> None:
    """`ulimit -n 1024`, 2,000 silent sockets: a normal request is still answered at once."""
    with (
        _raised_file_limit(IDLE_SOCKETS + 200),
        running_server(
            tmp_path, file_limit=SERVER_FILE_LIMIT, header_timeout_seconds="30"
        ) as server,
    ):
        idle: list[socket.socket] = []
        try:
            for _ in range(IDLE_SOCKETS):
                idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
            started = time.monotonic()
            answer = httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)
            elapsed = time.monotonic() - started
            files = _open_files(server.process.pid)
        finally:
            for sock in idle:
                sock.close()

    assert answer.status_code == 200
    # Far below the header timeout (30 s): the request did not wait for idle ones to expire,
    # only for the server to take in the sockets queued before it (about 0.7 s measured).
    assert elapsed < 5, elapsed
    assert files < SERVER_FILE_LIMIT, files
    print(  # noqa: T201 - the figures docs/operations.md quotes, shown with -s
        f"{IDLE_SOCKETS} idle sockets held; /healthz answered in {elapsed * 1000:.0f} ms; "
        f"server had {files} open files"
    )


def _soft_file_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no file limit in /proc/PID/limits")


def test_the_server_raises_its_soft_file_limit_to_hold_a_waiting_room(tmp_path: Path) -> None:
    """A soft `ulimit -n 1024` under a higher hard limit, as systemd starts services:
    the default cap of 10,000 still holds 2,000 idle sockets, none closed to make room."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert hard >= 10_000 + 64, "this machine's hard file limit is too low for the test"
    with (
        _raised_file_limit(IDLE_SOCKETS + 200),
        running_server(
            tmp_path, soft_file_limit=SERVER_FILE_LIMIT, header_timeout_seconds="30"
        ) as server,
    ):
        idle: list[socket.socket] = []
        try:
            for _ in range(IDLE_SOCKETS):
                idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
            answer = httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)
            wait_for(lambda: _open_files(server.process.pid) > IDLE_SOCKETS, "all accepted")
            soft = _soft_file_limit(server.process.pid)
        finally:
            for sock in idle:
                sock.close()
        log = server.log_text()

    assert answer.status_code == 200
    assert soft == 10_000 + 64
    assert "Closed" not in log and "does not fit" not in log, log


def test_silent_half_sent_and_idle_keepalive_connections_are_closed(tmp_path: Path) -> None:
    with running_server(
        tmp_path, header_timeout_seconds="1", keepalive_timeout_seconds="1"
    ) as server:
        address = ("127.0.0.1", server.port)
        sockets = contextlib.ExitStack()
        silent, half, half_body, kept = (
            sockets.enter_context(socket.create_connection(address)) for _ in range(4)
        )
        half.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        half_body.sendall(
            b"POST /login HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nem"
        )
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert kept.recv(4096).startswith(b"HTTP/1.1 200")

        with sockets:
            for name, sock in [
                ("silent", silent),
                ("half headers", half),
                ("half body", half_body),
                ("kept alive", kept),
            ]:
                assert _closed_by_server(sock, within=5), name


def test_beyond_the_cap_new_connections_get_a_503_and_one_log_line(tmp_path: Path) -> None:
    """Two connections whose requests are in the app fill a cap of 2; others are refused."""
    busy_request = (
        b"POST /login HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
    )
    with running_server(tmp_path, max_connections="2", header_timeout_seconds="30") as server:
        address = ("127.0.0.1", server.port)
        with contextlib.ExitStack() as sockets:
            for _ in range(2):
                sockets.enter_context(socket.create_connection(address)).sendall(busy_request)
            # Both requests reach the app and wait for their bodies; a loaded CI machine
            # needed more than 1 s once, and nothing observable marks the moment.
            time.sleep(3)
            answers = []
            for _ in range(3):
                with socket.create_connection(address, timeout=5) as extra:
                    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
                    answers.append(extra.recv(4096))
        log = server.log_text()

    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503"), answer
        assert b"retry-after: 1" in head.lower()
        error = json.loads(body)["error"]
        assert error["code"] == "serviceNotAvailable"
        assert error["innerError"]["code"] == "tooManyConnections"
        assert error["innerError"]["request-id"]
        assert error["innerError"]["date"].endswith("Z")
    assert log.count("beyond OPENVISIT_MAX_CONNECTIONS") == 1, log


def test_a_websocket_upgrade_beyond_the_cap_gets_the_503_without_an_upgrade(
    tmp_path: Path,
) -> None:
    """A waiting-room WebSocket counts against the cap too; refused, it is not upgraded."""
    busy_request = (
        b"POST /login HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
    )
    upgrade = (
        b"GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with running_server(tmp_path, max_connections="2", header_timeout_seconds="30") as server:
        address = ("127.0.0.1", server.port)
        with contextlib.ExitStack() as sockets:
            for _ in range(2):
                sockets.enter_context(socket.create_connection(address)).sendall(busy_request)
            time.sleep(3)  # as above: both requests are in the app
            with socket.create_connection(address, timeout=5) as extra:
                extra.sendall(upgrade)
                answer = extra.recv(4096)
                closed = _closed_by_server(extra, within=5)
        log = server.log_text()

    assert answer.startswith(b"HTTP/1.1 503"), answer
    assert closed
    assert "Traceback" not in log, log
