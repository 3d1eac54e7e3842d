"""Several server processes on one port, each accepting on a socket of its own.

uvicorn's own `--workers` binds one socket and lets every worker accept from it. A
worker that wakes first accepts every connection waiting at that moment, and keep-alive
connections stay where they landed: measured with 64 clients connecting at once, the
split between two workers ranged from 32/32 to 20/44, and in one benchmark run in five
it was 64/0, so one process served everything while the other core idled.

Here each worker binds the port itself with SO_REUSEPORT, and the kernel spreads new
connections over the workers' sockets by a hash of their addresses. The supervisor starts
the workers, restarts one that dies after it started serving, and stops them all on
SIGINT or SIGTERM; a worker that dies before it started serving stops the server
instead of being restarted in a loop. SIGHUP reloads: a new set of workers starts (fresh
processes, so new code and settings from the environment), and once all of them serve,
the old ones stop gracefully; if the new ones cannot start, the old ones keep serving.

Workers die with their supervisor: on Linux the kernel sends them SIGTERM when it exits
(PR_SET_PDEATHSIG), elsewhere a thread notices that the parent changed. Without that, a
supervisor killed with SIGKILL left its workers serving as orphans that no signal to the
supervisor's pid could reach any more.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from types import FrameType
from typing import Any

import uvicorn

from openvisit import gc_tuning, malloc_arenas, telemetry
from openvisit.connections import ConnectionLimits

logger = logging.getLogger("uvicorn.error")

APP = "openvisit.app:create_app"
STOP_SECONDS = 20.0


@dataclass(frozen=True)
class WorkerOptions:
    """What every worker needs; plain values, because workers are spawned, not forked."""

    host: str
    port: int
    log_level: str = "info"
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    # uvicorn's WebSocket options, as cli.WEBSOCKET_OPTIONS chose them.
    websocket: Mapping[str, Any] = field(default_factory=dict)

    def uvicorn_config(self) -> uvicorn.Config:
        return uvicorn.Config(
            APP,
            factory=True,
            host=self.host,
            port=self.port,
            log_level=self.log_level,
            proxy_headers=False,
            # openvisit.logs formats every line (create_app configures it in the worker).
            log_config=None,
            access_log=False,
            **self.limits.uvicorn_options(),
            **self.websocket,
        )


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port with SO_REUSEPORT, listening."""
    family, kind, protocol, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Have this process end (gracefully, by SIGTERM) when process `parent` ends."""
    libc_name = ctypes.util.find_library("c") if os.uname().sysname == "Linux" else None
    if libc_name is not None:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0:
            if os.getppid() != parent:  # it ended before the request was in place
                os.kill(os.getpid(), signal.SIGTERM)
            return

    def watch() -> None:  # elsewhere: an orphan is adopted by another process
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def run_worker(options: WorkerOptions, serving: EventType, parent: int) -> None:
    """One worker process: its own socket, one uvicorn server on it.

    `serving` is set once the server has started, so the supervisor can tell a worker
    that failed to start from one that died later.
    """
    malloc_arenas.limit_arenas()  # before any thread: see malloc_arenas.py
    die_with_parent(parent)
    # A terminal's hang-up reaches the whole process group; reloading is the supervisor's.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    gc_tuning.tune_collector()  # see gc_tuning.py
    config = options.uvicorn_config()
    sock = listening_socket(options.host, options.port)
    server = uvicorn.Server(config)

    def report_started() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            serving.set()

    threading.Thread(target=report_started, daemon=True).start()
    server.run(sockets=[sock])
    gc_tuning.skip_collecting_at_exit()


class Supervisor:
    def __init__(self, options: WorkerOptions, workers: int) -> None:
        self.options = options
        self.workers = workers
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[tuple[BaseProcess, EventType]] = []
        self._stopping = threading.Event()
        self._reloading = threading.Event()
        self._wake = threading.Event()

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; 0 on a clean stop, 1 if a worker could not start."""
        try:  # fail here, not in every worker, when something else holds the port
            listening_socket(self.options.host, self.options.port).close()
        except OSError as error:
            logger.error("Cannot listen on %s:%s: %s", self.options.host, self.options.port, error)
            return 1
        handlers = {
            signal.SIGINT: self._stop,
            signal.SIGTERM: self._stop,
            signal.SIGHUP: self._reload,
        }
        previous = {number: signal.signal(number, handler) for number, handler in handlers.items()}
        try:
            self._processes = [self._start() for _ in range(self.workers)]
            return self._watch()
        finally:
            self._stop_all(self._processes)
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _start(self) -> tuple[BaseProcess, EventType]:
        serving = self._context.Event()
        process = self._context.Process(
            target=run_worker, args=(self.options, serving, os.getpid()), name="openvisit-worker"
        )
        process.start()
        return process, serving

    def _watch(self) -> int:
        while True:
            self._wake.wait(0.5)
            self._wake.clear()
            if self._stopping.is_set():
                return 0
            if self._reloading.is_set():
                self._reloading.clear()
                self._reload_workers()
            for index, (process, serving) in enumerate(self._processes):
                if process.is_alive():
                    continue
                if not serving.is_set():
                    logger.error(
                        "Worker %s exited with %s while starting; stopping.",
                        process.pid,
                        process.exitcode,
                    )
                    return 1
                logger.warning(
                    "Worker %s exited with %s; starting another.", process.pid, process.exitcode
                )
                if process.pid is not None:
                    telemetry.process_exited(process.pid)
                self._processes[index] = self._start()

    def _reload_workers(self) -> None:
        """Start a new set of workers; once they all serve, stop the old set."""
        logger.info("Reloading: starting %d new workers", self.workers)
        fresh = [self._start() for _ in range(self.workers)]
        deadline = time.monotonic() + STOP_SECONDS
        while not all(serving.is_set() for _process, serving in fresh):
            failed = any(not process.is_alive() for process, _serving in fresh)
            if failed or self._stopping.is_set() or time.monotonic() > deadline:
                logger.error("Reload failed: the new workers did not start; keeping the old ones")
                self._stop_all(fresh)
                return
            time.sleep(0.05)
        old, self._processes = self._processes, fresh
        self._stop_all(old)
        for process, _serving in old:
            if process.pid is not None:
                telemetry.process_exited(process.pid)
        logger.info("Reloaded: %d new workers serve, the old ones stopped", self.workers)

    def _stop(self, _number: int, _frame: FrameType | None) -> None:
        self._stopping.set()
        self._wake.set()

    def _reload(self, _number: int, _frame: FrameType | None) -> None:
        self._reloading.set()
        self._wake.set()

    @staticmethod
    def _stop_all(processes: list[tuple[BaseProcess, EventType]]) -> None:
        """SIGTERM (uvicorn finishes requests in flight), then SIGKILL after STOP_SECONDS."""
        for process, _serving in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process, _serving in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def serve(options: WorkerOptions, workers: int) -> int:
    """Run `workers` worker processes on options.host:options.port until stopped."""
    options.uvicorn_config()  # sets up uvicorn's logging in this process too
    logger.info(
        "Serving on %s:%s with %d workers, each on its own SO_REUSEPORT socket",
        options.host,
        options.port,
        workers,
    )
    return Supervisor(options, workers).run()
