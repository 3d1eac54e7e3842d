"""A real TURN server (Debian's coturn) on loopback, started per test.

`running_turnserver` starts `turnserver` on a free 127.0.0.1 port with a TURN REST shared
secret (`--use-auth-secret`), waits until it answers a STUN Binding request, and kills it
afterwards. Everything it writes (log, pid file, its SQLite user database) stays in the
test's folder. `--allow-loopback-peers` lets it relay between two peers on this machine;
a production coturn must never have it.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"  # scripts/ensure-coturn
REALM = "openvisit.test"
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 5.0
LOG_NAME = "turnserver.log"
RELAY_PORTS = 40  # relay ports per server: a few allocations per test
STUN_MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST, BINDING_SUCCESS = 0x0001, 0x0101


@dataclass(frozen=True)
class TurnServer:
    host: str
    port: int
    secret: str
    log: Path

    @property
    def url(self) -> str:
        return f"turn:{self.host}:{self.port}?transport=udp"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_udp_and_tcp_port() -> int:
    """A port of 127.0.0.1 free for both UDP and TCP at this moment (turnserver takes both)."""
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port of 127.0.0.1 is free for both UDP and TCP")


def stun_binding_answered(host: str, port: int, timeout: float = 0.2) -> bool:
    """Send one STUN Binding request (RFC 5389) and say whether a success answer came."""
    transaction = secrets.token_bytes(12)
    request = struct.pack("!HHI", BINDING_REQUEST, 0, STUN_MAGIC_COOKIE) + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(request, (host, port))
        try:
            answer, _address = sock.recvfrom(2048)
        except (TimeoutError, ConnectionRefusedError):
            return False
    kind, _length, cookie = struct.unpack("!HHI", answer[:8])
    return kind == BINDING_SUCCESS and cookie == STUN_MAGIC_COOKIE and answer[8:20] == transaction


def _arguments(folder: Path, port: int, shared_secrets: Sequence[str]) -> list[str]:
    low = random.randrange(50_000, 60_000 - RELAY_PORTS)
    return [
        TURNSERVER,
        "-n",  # no configuration file: only these options
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        f"--listening-port={port}",
        f"--min-port={low}",
        f"--max-port={low + RELAY_PORTS - 1}",
        f"--realm={REALM}",
        "--use-auth-secret",
        *(f"--static-auth-secret={secret}" for secret in shared_secrets),
        "--fingerprint",
        "--allow-loopback-peers",  # both peers are on this machine; test only
        "--no-cli",
        "--no-tls",
        "--no-dtls",
        "--no-multicast-peers",
        "--simple-log",  # the log file keeps the name given, without a date
        "--verbose",  # one line per request and user, which the tests read
        f"--log-file={folder / LOG_NAME}",
        f"--pidfile={folder / 'turnserver.pid'}",
        f"--userdb={folder / 'turndb'}",
    ]


@contextmanager
def running_turnserver(
    folder: Path, secret: str, *, other_secrets: Sequence[str] = ()
) -> Iterator[TurnServer]:
    """Run turnserver with `secret` until the block ends; fail if it does not answer in time.

    `other_secrets` are accepted too, as during a rotation of the secret.
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = free_udp_and_tcp_port()
    output = (folder / "turnserver.out").open("wb")
    process = subprocess.Popen(
        _arguments(folder, port, [secret, *other_secrets]),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        server = TurnServer("127.0.0.1", port, secret, folder / LOG_NAME)
        _wait_until_answering(process, server, folder)
        yield server
    finally:
        _stop(process)
        output.close()


def _wait_until_answering(
    process: subprocess.Popen[bytes], server: TurnServer, folder: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (folder / "turnserver.out").read_text(errors="replace")
            raise RuntimeError(f"turnserver exited with {process.returncode}:\n{output[-2000:]}")
        if stun_binding_answered(server.host, server.port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"turnserver did not answer on {server.port} in {START_TIMEOUT_SECONDS}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
