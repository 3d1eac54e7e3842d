"""Shared plumbing: timing, the server in a subprocess, fresh copies of a seeded database."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from seed import POSTGRES_ADMIN_URL, POSTGRES_BENCH_DB

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTGRES_RUN_DB = f"{POSTGRES_BENCH_DB}_run"
# Seconds a server may take to start: a loaded shared machine has needed more than 60.
START_TIMEOUT = 180


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Probe:
    """One figure's measurement: `run` does the work once (median of repeat x scale runs)."""

    label: str
    run: Callable[[], object]
    scale: int = 1
    target: float | None = None  # an upper bound in ms, judged at the largest size
    note: str = ""


@dataclass
class Comparison:
    """One figure measured at each size; the ratio is the largest size's cost over the first."""

    label: str
    values: list[float]
    unit: str = "ms"
    target: float | None = None  # ms: an upper bound; /s: a lower bound
    note: str = ""

    @property
    def ratio(self) -> float:
        """Cost at the largest size over cost at the smallest (for a rate: the inverse)."""
        first, last = self.values[0], self.values[-1]
        if self.unit == "/s":
            first, last = last, first
        return last / first if first else float("nan")

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        value = self.values[-1]
        return value >= self.target if self.unit == "/s" else value < self.target


def compare(sizes: Sequence[Sequence[Probe]], repeat: int, *, warmup: int = 2) -> list[Comparison]:
    """Median ms of each figure at every size, the sizes' runs interleaved.

    The machine is shared and its load drifts over minutes; alternating the sizes run by
    run (in turn-about order) exposes both to the same drift, so the ratio stays honest.
    """
    found = []
    for probes in zip(*sizes, strict=True):
        for probe in probes:
            for _ in range(warmup):
                probe.run()
        samples: list[list[float]] = [[] for _ in probes]
        for turn in range(repeat * probes[0].scale):
            order = list(enumerate(probes))
            for index, probe in order if turn % 2 == 0 else reversed(order):
                began = time.perf_counter()
                probe.run()
                samples[index].append((time.perf_counter() - began) * 1000)
        found.append(
            Comparison(
                probes[0].label,
                [statistics.median(values) for values in samples],
                target=probes[0].target,
                note=probes[-1].note,
            )
        )
    return found


@dataclass(frozen=True)
class Backend:
    """A seeded database: `url` is the pristine copy, `fresh()` hands out working copies.

    `tag` names the working copies, so copies of two seeded databases can be open at once.
    """

    name: str  # "sqlite" or "postgresql"
    url: str
    folder: Path
    tag: str = "run"

    @property
    def template(self) -> str:
        """The pristine database's name on PostgreSQL."""
        return self.url.rpartition("/")[2]

    @contextmanager
    def fresh(self) -> Iterator[str]:
        """A working copy of the seeded database, so every run starts from the same data."""
        if self.name == "sqlite":
            source = Path(self.url.removeprefix("sqlite:///"))
            run = self.folder / self.tag
            shutil.rmtree(run, ignore_errors=True)
            run.mkdir()
            copy_sqlite(source, run)
            yield f"sqlite:///{run / source.name}"
            shutil.rmtree(run, ignore_errors=True)
            return
        database = f"{POSTGRES_RUN_DB}_{self.tag}"
        url = copy_postgres(self.template, database)
        try:
            yield url
        finally:
            drop_database(database)


def copy_sqlite(source: Path, folder: Path) -> Path:
    """A copy of the SQLite file `source` in `folder`."""
    for suffix in ("", "-wal", "-shm"):  # WAL mode: recent commits may sit in -wal
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", folder / f"{source.name}{suffix}")
    return folder / source.name


def copy_postgres(template: str, database: str) -> str:
    """A new PostgreSQL database made from `template`; returns its URL."""
    drop_database(database)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def drop_database(database: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT
    pid: int


@contextmanager
def server(
    url: str, data_dir: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """The real server in a subprocess on `url`; yields its base URL.

    Always `openvisit serve --workers N`, as shipped: with N > 1 it runs uvicorn's process
    manager, whose workers are spawned children of the serve process (`process_tree`
    finds them). Threads per worker come from OPENVISIT_THREADS (default 8).
    Logging stays as shipped (INFO, with uvicorn's access log) and goes to a file, where
    every worker logs its own "Application startup complete". `env` adds variables.
    """
    port = free_port()
    env = {
        **os.environ,
        "OPENVISIT_SECRET_KEY": secrets.token_urlsafe(48),
        **(env or {}),  # may name the secret, for links signed before the start
        "OPENVISIT_DATA_DIR": str(data_dir),
        "OPENVISIT_DATABASE_URL": url,
        "OPENVISIT_PORT": str(port),
    }
    if workers > 1 and url.startswith("sqlite") and "OPENVISIT_REDIS_URL" not in env:
        # Several workers need an event bus that crosses processes (docs/events.md); on
        # PostgreSQL its LISTEN/NOTIFY is one, on SQLite the Redis of ensure-services.
        env["OPENVISIT_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    command = [str(BIN / "openvisit"), "serve", "--port", str(port), "--workers", str(workers)]
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own executables
        command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(log_path, process, workers)
        yield Served(base, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(log: Path, process: subprocess.Popen[bytes], workers: int) -> None:
    """Wait until every worker has started its application and the socket listens.

    With one process uvicorn logs "Application startup complete" before it binds the
    socket ("Uvicorn running on"), so both lines are needed or a fast client is refused.
    """
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log}")
        text = log.read_text(errors="replace")
        # Several workers bind their sockets before their apps start (openvisit/workers.py).
        listening = workers > 1 or "Uvicorn running on" in text
        if listening and text.count("Application startup complete") >= workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start within {START_TIMEOUT} s; see {log}")


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User plus system CPU seconds of each process that still exists."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return found


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process."""
    rows = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rpartition(")")[2].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        rows.append((int(entry.name), int(stat[1]), command))
    return rows


def process_tree(root: int) -> set[int]:
    """`root` and all its descendants (uvicorn's workers)."""
    rows = _processes()
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent, _command in rows:
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def postgres_backends(database: str) -> set[int]:
    """PostgreSQL backend processes serving `database` (their title names it)."""
    return {pid for pid, _parent, command in _processes() if f" {database} " in command}


class CpuMeter:
    """CPU seconds used by the server's processes (and PostgreSQL's backends) over a run."""

    def __init__(self, server_pid: int, database: str | None) -> None:
        self.server_pid, self.database = server_pid, database
        self.server = 0.0
        self.server_processes: list[float] = []  # each server process, busiest first
        self.postgres = 0.0
        self.machine_busy = 0.0  # CPU seconds every process on the machine used
        self.machine_idle = 0.0

    def _pids(self) -> tuple[set[int], set[int]]:
        backends = postgres_backends(self.database) if self.database else set()
        return process_tree(self.server_pid), backends

    def __enter__(self) -> CpuMeter:
        server, backends = self._pids()
        self._before = cpu_seconds(server | backends)
        self._machine = _machine_cpu()
        return self

    def __exit__(self, *_exc: object) -> None:
        server, backends = self._pids()
        after = cpu_seconds(server | backends)
        busy, idle = _machine_cpu()
        self.machine_busy, self.machine_idle = busy - self._machine[0], idle - self._machine[1]
        used = {pid: after[pid] - self._before.get(pid, 0.0) for pid in after}
        self.server = sum(used.get(pid, 0.0) for pid in server)
        # Every process of the server, busiest first: the workers, then the supervisor and
        # multiprocessing's resource tracker near 0. Shows how evenly workers share load.
        self.server_processes = sorted((used.get(pid, 0.0) for pid in server), reverse=True)
        self.postgres = sum(used.get(pid, 0.0) for pid in backends)


def _machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / tick, idle / tick


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"
