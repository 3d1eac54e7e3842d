"""A small executor of its own for argon2, with a bounded queue.

argon2id with argon2-cffi's defaults costs about 64 MiB of memory and tens of
milliseconds of a core per hash. Run on the request thread pool, 16 clients posting
wrong passwords took every thread and 640 MB, and plain API reads waited seconds for a
thread. Here hashing runs on `threads` threads (the cores, at most 4) and at most
`queue` more hashes may wait; past that a sign-in is refused at once with
`HashingBusy` (503 with Retry-After) instead of piling up. The threads run at a lower
CPU priority, so when hashing and requests contend for a core, requests win. The caller awaits the
result on the event loop, so a sign-in waiting for its hash holds no request thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from openvisit.errors import ServiceBusy

T = TypeVar("T")

MAX_DEFAULT_THREADS = 4
# Seconds a refused sign-in is told to wait: a hash takes well under one.
BUSY_RETRY_AFTER_SECONDS = 1
# Added to the hashing threads' nice value: a sign-in may wait, an API read should not.
HASHING_NICENESS = 10


class HashingBusy(ServiceBusy):
    """Every hashing thread is busy and the queue is full."""


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_THREADS))


class PasswordHashing:
    """Runs password hashing off the request threads, refusing work past a bound."""

    def __init__(self, threads: int | None = None, queue: int | None = None) -> None:
        self.threads = threads or default_threads()
        self.queue = self.threads * 4 if queue is None else queue
        self._executor = ThreadPoolExecutor(
            self.threads, thread_name_prefix="openvisit-hash", initializer=_lower_priority
        )
        self._lock = threading.Lock()
        self._pending = 0  # hashes running or queued, across every event loop

    @property
    def pending(self) -> int:
        return self._pending

    def check_room(self) -> None:
        """Raise HashingBusy now if a hash could not be queued, before any other work."""
        if self._pending >= self.threads + self.queue:
            raise _busy()

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """Run `function(*args)` on a hashing thread and await its result.

        Raises HashingBusy when `threads + queue` hashes are already running or waiting.
        A hash counts until it has finished, even if its caller went away meanwhile, so
        a client that disconnects cannot make room for more work than the bound.
        """
        with self._lock:
            if self._pending >= self.threads + self.queue:
                raise _busy()
            self._pending += 1
        try:
            future = self._executor.submit(function, *args)
        except BaseException:
            self._release(None)
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _future: Future[Any] | None) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _busy() -> HashingBusy:
    return HashingBusy("signInBusy", retry_after_seconds=BUSY_RETRY_AFTER_SECONDS)


def _lower_priority() -> None:
    """Run this hashing thread (and the threads argon2 starts for its lanes) at a lower
    CPU priority, so the scheduler hands a contended core to request threads first.

    On Linux a thread is a task with a nice value of its own; elsewhere this is a no-op.
    """
    # Not Linux, or refused: hashing still works, at the normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(
            os.PRIO_PROCESS,
            threading.get_native_id(),
            os.getpriority(os.PRIO_PROCESS, 0) + HASHING_NICENESS,
        )


_shared: PasswordHashing | None = None
_shared_lock = threading.Lock()


def shared_hashing() -> PasswordHashing:
    """One pool per process, for runtimes that were not given their own."""
    global _shared  # noqa: PLW0603 - a lazily built process-wide default
    with _shared_lock:
        if _shared is None:
            _shared = PasswordHashing()
        return _shared
