"""SQLite writers wait for each other here, in order, instead of in SQLite's busy handler.

SQLite has one write lock per database file. A writer that finds it taken does not
queue: its busy handler sleeps (1, 2, 5, 10, ... 100 ms) and tries again, so under load
the lock sits idle between holders while late writers oversleep. Measured with 64
booking clients, the lock was held 78-82% of the time while most of a core idled.

This queue hands the lock over as soon as it is free: threads of one process take a
`threading.Lock`, and processes (several server workers on one file) then take an
exclusive `flock` on a file next to the database, which the kernel grants to the next
waiter the moment the holder lets go, and releases by itself if a process dies.
Writers outside the server (the CLI) still meet SQLite's busy handler, which stays the
backstop.

A thread waiting behind another thread of its process gives up after WAIT_SECONDS with a
retryable 503. The wait for another process's turn has no limit of its own (a blocking
flock cannot time out); it lasts as long as that process's write transaction, and ends
at once if the process dies.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openvisit.store.locking import Busy, guard

# As long as SQLite's own busy timeout: a thread that waits longer gets a retryable 503.
WAIT_SECONDS = 15.0


class WriterQueue:
    """One per Database; `lock_path` None for a database with no file (in memory)."""

    def __init__(self, lock_path: Path | None) -> None:
        self._lock_path = lock_path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._fd_pid = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the right to write until the block ends."""
        if not guard.enabled:
            # Test-only: the control tests show what writers do without any queue.
            yield
            return
        if not self._threads.acquire(timeout=WAIT_SECONDS):
            raise Busy("databaseBusy")
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        if self._fd is not None and self._fd_pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def _file(self) -> int | None:
        """The lock file, opened once per process (a forked child must not share it)."""
        if self._lock_path is None:
            return None
        if self._fd is None or self._fd_pid != os.getpid():
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fd_pid = os.getpid()
        return self._fd


def lock_path_for(database_path: str | None) -> Path | None:
    """`<database>-writers.lock` beside a database file; None for in-memory databases."""
    if not database_path or database_path == ":memory:" or database_path.startswith("file:"):
        return None
    return Path(database_path).with_name(Path(database_path).name + "-writers.lock")
