"""One `openvisit serve` per data folder and per address.

Our workers bind the port with SO_REUSEPORT so the kernel spreads connections over them
(see workers.py); the same option would let a second `openvisit serve` of the same user
bind the port too and silently take half the connections, serving another data folder
or another version. A port probe alone cannot stop that: two servers starting at the
same moment could both probe before either binds. So `serve` holds, for its lifetime:

- an exclusive flock on `<data folder>/serve.lock`: one server per data folder, whatever
  its port;
- an exclusive flock on a lock file named after host:port in a private folder of this
  user under the temporary directory (only the same user can share a port through
  SO_REUSEPORT, so a per-user lock covers every server that could), and then a probe
  that binds the port without SO_REUSEPORT, which fails if anything listens there.

flock locks go away with the process that holds them, so a killed server leaves nothing
to clean up; the files themselves stay and are reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path


class AlreadyRunningError(RuntimeError):
    """Another server holds the data folder or the address."""


def _hold(path: Path) -> int | None:
    """An fd holding an exclusive lock on `path`, with our pid written in; None if taken."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError):
        pid = path.read_text().strip()
        if pid.isdigit():
            return f" (pid {pid})"
    return ""


def port_lock_path(host: str, port: int) -> Path:
    folder = Path(tempfile.gettempdir()) / f"openvisit-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    safe_host = "".join(char if char.isalnum() or char in ".-" else "_" for char in host)
    return folder / f"port-{safe_host}-{port}.lock"


def probe_port(host: str, port: int) -> None:
    """Bind host:port without SO_REUSEPORT; OSError if anything listens there."""
    family, kind, protocol, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, protocol) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        sock.bind(address)


@contextlib.contextmanager
def single_instance(data_dir: Path, host: str, port: int) -> Iterator[None]:
    """Hold the data folder and host:port for this server, or raise AlreadyRunningError."""
    held: list[int] = []
    try:
        data_lock = data_dir / "serve.lock"
        fd = _hold(data_lock)
        if fd is None:
            raise AlreadyRunningError(
                f"another openvisit serve{_holder(data_lock)} uses the data folder "
                f"{data_dir.resolve()}; stop it first, or set OPENVISIT_DATA_DIR to another "
                "folder"
            )
        held.append(fd)
        port_lock = port_lock_path(host, port)
        fd = _hold(port_lock)
        if fd is None:
            raise AlreadyRunningError(
                f"another openvisit serve{_holder(port_lock)} listens on {host}:{port}; "
                "stop it first, or set OPENVISIT_PORT (or --port) to a free port"
            )
        held.append(fd)
        try:
            probe_port(host, port)
        except OSError as error:
            raise AlreadyRunningError(
                f"cannot listen on {host}:{port}: {error.strerror or error}; another program "
                "uses it: stop it, or set OPENVISIT_PORT (or --port) to a free port"
            ) from None
        yield
    finally:
        for fd in held:
            os.close(fd)
