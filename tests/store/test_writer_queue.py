"""SQLite writers take turns: one at a time per process and across processes.

`WriterQueue.turn()` is what `Database.write()` holds around every SQLite write session;
these tests drive the real queue, real child processes and a real database file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from openvisit.store.db import Database
from openvisit.store.writer_queue import WriterQueue, lock_path_for
from tests.concurrency.race import guard_disabled

# Every wait below is bounded; these are generous next to what each step really takes.
STEP_SECONDS = 5.0
# How long a waiter is given to (wrongly) get in while someone else holds the turn.
BLOCKED_SECONDS = 0.3

# A child process that takes a turn on `lock`, touches `held`, waits for a line on
# stdin, touches `released` and only then lets go of its turn.
HOLDER = """
import sys
from pathlib import Path
from openvisit.store.writer_queue import WriterQueue

lock, held, released = (Path(arg) for arg in sys.argv[1:4])
with WriterQueue(lock).turn():
    held.touch()
    sys.stdin.readline()
    released.touch()
"""


# A process that has written once forks (a server forking workers after opening the
# database); the forked worker holds a turn, the parent must wait for it. Prints whether
# the worker had let go by the time the parent got in.
FORKED = """
import os, sys, time
from pathlib import Path
from openvisit.store.writer_queue import WriterQueue

lock, released = Path(sys.argv[1]), Path(sys.argv[2])
queue = WriterQueue(lock)
with queue.turn():
    pass
inside, tell = os.pipe()
worker = os.fork()
if worker == 0:
    with queue.turn():
        os.write(tell, b"x")
        time.sleep(%(hold)s)
        released.touch()
    os._exit(0)
os.read(inside, 1)
with queue.turn():
    print("waited" if released.exists() else "overlapped")
os.waitpid(worker, 0)
"""


class Background:
    """A daemon thread running `target`; `finish` re-raises what it raised."""

    def __init__(self, target: Callable[[], object]) -> None:
        self._target = target
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._target()
        except BaseException as error:
            self._error = error

    def finish(self, timeout: float = STEP_SECONDS) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"thread still running after {timeout} s"
        if self._error is not None:
            raise self._error


def peak_writers_inside(queue: WriterQueue, writers: int = 2) -> int:
    """How many of `writers` threads, started together, were inside `turn()` at once.

    Each thread, once inside, waits up to BLOCKED_SECONDS for all the others to join it,
    so any overlap the queue allows does happen. One turn is taken first so the threads
    share the lock file the way a long-running server's threads do.
    """
    with queue.turn():
        pass
    start = threading.Barrier(writers)
    all_inside = threading.Event()
    count = threading.Lock()
    inside = 0
    peak = 0

    def write() -> None:
        nonlocal inside, peak
        start.wait(STEP_SECONDS)
        with queue.turn():
            with count:
                inside += 1
                peak = max(peak, inside)
                if inside == writers:
                    all_inside.set()
            all_inside.wait(BLOCKED_SECONDS)
            with count:
                inside -= 1

    threads = [Background(write) for _ in range(writers)]
    for thread in threads:
        thread.finish()
    return peak


@contextmanager
def holder_process(lock: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A child process holding its turn on `lock`; yields it and its `released` marker.

    Writing a line to its stdin lets it go. It is killed on the way out if still alive.
    """
    held, released = tmp_path / "held", tmp_path / "released"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock), str(held), str(released)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + STEP_SECONDS
        while not held.exists():
            if child.poll() is not None:
                assert child.stderr is not None
                pytest.fail(f"holder exited early: {child.stderr.read().decode()}")
            assert time.monotonic() < deadline, "holder never took its turn"
            time.sleep(0.01)
        yield child, released
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(STEP_SECONDS)
        for stream in (child.stdin, child.stderr):
            if stream is not None:
                stream.close()


def take_turn_in_background(queue: WriterQueue) -> tuple[Background, threading.Event]:
    """Start a thread that takes a turn on `queue`; the event is set once it is inside."""
    inside = threading.Event()

    def take() -> None:
        with queue.turn():
            inside.set()

    return Background(take), inside


def lock_fds(lock: Path) -> list[str]:
    """This process's open file descriptors that point at `lock`."""
    lock = lock.resolve()
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if Path(os.readlink(f"/proc/self/fd/{fd}")) == lock:
                fds.append(fd)
        except OSError:  # the listing's own descriptor is gone by now
            continue
    return fds


def test_lock_file_sits_beside_a_file_database(tmp_path):
    """Every server process on one database file finds the same lock file next to it."""
    database = tmp_path / "openvisit.db"

    assert lock_path_for(str(database)) == tmp_path / "openvisit.db-writers.lock"
    assert lock_path_for("data/openvisit.db") == Path("data/openvisit.db-writers.lock")


@pytest.mark.parametrize("database", [":memory:", "", None, "file:openvisit.db?mode=ro&uri=true"])
def test_no_lock_file_without_a_plain_database_path(database):
    """In-memory databases and `file:` URIs get no lock file (threads still take turns)."""
    assert lock_path_for(database) is None


@pytest.mark.parametrize("backing", ["file", "memory"])
def test_threads_of_one_process_take_turns(tmp_path, backing):
    """Two threads of one server are never inside a write turn at the same time."""
    lock = tmp_path / "x.db-writers.lock" if backing == "file" else None

    assert peak_writers_inside(WriterQueue(lock)) == 1


def test_writer_waits_for_another_process_to_let_go(tmp_path):
    """A second server process on the same database waits for the first one's turn."""
    lock = lock_path_for(str(tmp_path / "x.db"))
    assert lock is not None
    queue = WriterQueue(lock)
    try:
        with holder_process(lock, tmp_path) as (child, released):
            saw_release = []
            inside = threading.Event()

            def take() -> None:
                with queue.turn():
                    saw_release.append(released.exists())
                    inside.set()

            waiter = Background(take)
            assert not inside.wait(BLOCKED_SECONDS), "got in while another process held it"

            assert child.stdin is not None
            child.stdin.write(b"go\n")
            child.stdin.flush()
            waiter.finish()

            assert saw_release == [True]
            assert child.wait(STEP_SECONDS) == 0
    finally:
        queue.close()


def test_a_killed_holder_does_not_block_the_others(tmp_path):
    """A server process that dies mid-write leaves the queue free for the rest."""
    lock = lock_path_for(str(tmp_path / "x.db"))
    assert lock is not None
    queue = WriterQueue(lock)
    try:
        with holder_process(lock, tmp_path) as (child, released):
            waiter, inside = take_turn_in_background(queue)
            assert not inside.wait(BLOCKED_SECONDS), "got in while another process held it"

            child.send_signal(signal.SIGKILL)
            waiter.finish(timeout=2.0)

            assert child.wait(STEP_SECONDS) == -signal.SIGKILL
            assert not released.exists()
    finally:
        queue.close()


def test_switching_the_guard_off_lets_writers_overlap(tmp_path):
    """The control tests rely on the test-only switch really removing the queue."""
    queue = WriterQueue(tmp_path / "x.db-writers.lock")
    try:
        with guard_disabled():
            assert peak_writers_inside(queue) == 2
    finally:
        queue.close()

    assert peak_writers_inside(queue) == 1  # and switching it back on restores it


def test_database_write_creates_the_lock_file_beside_the_database(tmp_path):
    """The first write on a SQLite file sets up the queue other processes will share."""
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert not (tmp_path / "x.db-writers.lock").exists()

        with db.write() as session:
            session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)"))

        assert (tmp_path / "x.db-writers.lock").is_file()
    finally:
        db.dispose()


def test_database_write_waits_its_turn(tmp_path):
    """`db.write()` lines up behind any other holder of the same database's queue."""
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    lock = lock_path_for(str(tmp_path / "x.db"))
    other = WriterQueue(lock)
    committed = threading.Event()

    def write() -> None:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        committed.set()

    try:
        with other.turn():
            writer = Background(write)
            assert not committed.wait(BLOCKED_SECONDS), "wrote while another writer held it"
        writer.finish()
        assert committed.is_set()
    finally:
        other.close()
        db.dispose()


def test_concurrent_writes_all_commit(tmp_path):
    """Many threads writing at once all succeed, with no 'database is locked' and no lost update."""
    threads, increments = 8, 20
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)"))
            session.execute(text("INSERT INTO counter (id, value) VALUES (1, 0)"))
        start = threading.Barrier(threads)

        def increment() -> None:
            start.wait(STEP_SECONDS)
            for _ in range(increments):
                with db.write() as session:
                    value = session.execute(text("SELECT value FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET value = :v"), {"v": value + 1})

        writers = [Background(increment) for _ in range(threads)]
        for writer in writers:
            writer.finish()

        with db.read() as session:
            assert (
                session.execute(text("SELECT value FROM counter")).scalar_one()
                == threads * increments
            )
    finally:
        db.dispose()


def test_dispose_closes_the_lock_file(tmp_path):
    """Disposing a database releases its lock file; a new handle writes as before."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    lock = tmp_path / "x.db-writers.lock"
    db = Database(url)
    with db.write() as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    assert len(lock_fds(lock)) == 1

    db.dispose()
    db.dispose()

    assert lock_fds(lock) == []
    again = Database(url)
    try:
        with again.write() as session:
            session.execute(text("INSERT INTO t (id) VALUES (1)"))
        with again.read() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    finally:
        again.dispose()


def test_a_forked_worker_takes_turns_with_its_parent(tmp_path):
    """Workers forked after the database was opened do not share the parent's lock."""
    script = FORKED % {"hold": BLOCKED_SECONDS}
    lock, released = tmp_path / "x.db-writers.lock", tmp_path / "released"

    result = subprocess.run(
        [sys.executable, "-c", script, str(lock), str(released)],
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "waited"
