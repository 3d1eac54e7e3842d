"""Real servers for the bus tests: a private redis-server, a private PostgreSQL database.

The Redis tests kill connections and restart the server, so they get a redis-server of
their own on a free loopback port (Debian's `redis-server`, which scripts/ensure-services
installs), never the shared one on 6379. A missing binary fails the test with what to run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis

from tests.databases import POSTGRES_ADMIN_URL
from tests.live import free_port

START_SECONDS = 10.0


class RedisServer:
    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run ./scripts/ensure-services")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.folder),
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited: {(self.folder / 'redis.log').read_text()}")
            try:
                with self.client() as client:
                    client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail(f"redis-server did not answer on port {self.port} within {START_SECONDS} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # a frozen server cannot stop
            self.process.terminate()
            self.process.wait(timeout=START_SECONDS)
        self.process = None

    def pause(self) -> None:
        """Freeze the server: connections stay open and nothing answers (a network cut)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5, decode_responses=True)


class PostgresChannelDatabase:
    """An empty database of its own: NOTIFY reaches every listener of one database."""

    def __init__(self) -> None:
        self.name = f"openvisit_bus_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')
        base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
        self.dsn = f"{base}/{self.name}"

    def terminate(self, pid: int) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute("SELECT pg_terminate_backend(%s)", (pid,))

    def backend_pids(self, application_name: str) -> set[int]:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                (self.name, application_name),
            ).fetchall()
        return {row[0] for row in rows}

    def drop(self) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
