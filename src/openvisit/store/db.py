"""The database handle: engine, sessions and the two kinds of transaction services use.

Services own transactions (`with db.write() as session:`); transports never commit.
On SQLite a write transaction starts with BEGIN IMMEDIATE so writers take the file lock
before they read instead of failing later on upgrade, which is what serializes bookings
there; the server's own writers first line up in a `WriterQueue` (store/writer_queue.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from openvisit.files import ensure_private_file
from openvisit.store.faults import StorageUnavailable, file_fault, storage_fault
from openvisit.store.locking import (
    LOCK_TIMEOUT_MS,
    WRITES,
    Busy,
    guard,
    is_lock_timeout,
)
from openvisit.store.writer_queue import WriterQueue, lock_path_for

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000

Decision = TypeVar("Decision")
Result = TypeVar("Result")


class NestedWrite(RuntimeError):
    """A programming error: a write transaction opened inside another in one thread."""


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            prepare_sqlite_file(url)
        self.engine = self._create_engine(url, echo=echo)
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write_sessions = sessionmaker(writer, expire_on_commit=False, info={WRITES: True})
        self._writers = (
            WriterQueue(lock_path_for(make_url(url).database)) if self.is_sqlite else None
        )
        # Which threads hold a write transaction: a nested one would wait on its own
        # lock (15 s on SQLite, then a 503), so it is refused at once instead.
        self._writing = threading.local()
        # The kind of the last storage fault a write hit, until a write commits again;
        # /readyz reads it (see `check_writable`).
        self.write_fault: str | None = None

    def _create_engine(self, url: str, *, echo: bool) -> Engine:
        if not self.is_sqlite:
            return create_engine(
                url,
                echo=echo,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=20,
                # No request should wait long for a row or advisory lock: past this it
                # gets a retryable 503 (see `write`). Set once per connection, so the
                # booking path does not spend a round trip on SET LOCAL.
                connect_args={"options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"},
            )
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 15}
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception.

        One per thread at a time: opening a second inside the first raises NestedWrite.
        """
        if getattr(self._writing, "open", False):
            raise NestedWrite(
                "a write transaction is already open in this thread; "
                "pass its session down instead of opening another"
            )
        self._writing.open = True
        try:
            with self._transaction() as session:
                yield session
        finally:
            self._writing.open = False

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        turn = self._writers.turn() if self._writers is not None else nullcontext()
        try:
            with turn, self._write_sessions() as session, session.begin():
                yield session
        except DBAPIError as error:
            # PostgreSQL's lock_timeout; SQLite has no such code.
            if isinstance(error, OperationalError) and is_lock_timeout(error):
                raise Busy("calendarBusy") from error
            fault = self._storage_error(error, writing=True)
            if fault is None:
                raise
            raise fault from error
        except OSError as error:  # the writers' lock file on a full or read-only disk
            kind = file_fault(error)
            if kind is None:
                raise
            self.write_fault = kind
            raise StorageUnavailable(kind) from error
        self.write_fault = None

    def _storage_error(self, error: DBAPIError, *, writing: bool) -> StorageUnavailable | None:
        """The 503 a storage fault becomes (recorded for /readyz), or None for other errors."""
        kind = storage_fault(error)
        if kind is None:
            return None
        if writing and kind != "connection":  # the pool replaces a dead connection by itself
            self.write_fault = kind
            _drop_read_only_connections(self.engine, kind)
        logger.warning("database %s fault: %s", kind, str(error.orig).splitlines()[0][:200])
        return StorageUnavailable(kind)

    def decide_and_write(
        self,
        decide: Callable[[Session], Decision],
        write: Callable[[Session, Decision], Result],
        *,
        still_valid: Callable[[Session, Decision], bool],
        settled: Callable[[Decision], Result | None],
    ) -> Result:
        """`write` a decision `decide` took, in one write transaction; where it is taken
        is this backend's choice, so services need not know which database they run on.

        SQLite has one write lock for the whole file, so every writer waits on every
        other one: decide in a plain read first (one consistent snapshot), then hold the
        lock only to ask `still_valid` and write, deciding again under it if the world
        moved. PostgreSQL locks per staff member (store/locking.py), so it decides inside
        the write transaction. A decision `settled` already turns into a result (an
        idempotent replay) is returned without writing.
        """
        decision: Decision | None = None
        if self.is_sqlite:
            with self.read() as session:
                decision = decide(session)
            result = settled(decision)
            if result is not None:
                return result
        with self.write() as session:
            if decision is None or not still_valid(session, decision):
                decision = decide(session)
                result = settled(decision)
                if result is not None:
                    return result
            return write(session, decision)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work; nothing it does is committed.

        Closing (not rolling back) ends the transaction without expiring the rows, so the
        detached records a service returns stay readable.
        """
        try:
            with self._read_sessions() as session:
                yield session
        except DBAPIError as error:
            fault = self._storage_error(error, writing=False)
            if fault is None:
                raise
            raise fault from error

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def check_writable(self) -> None:
        """Raise StorageUnavailable while the last write hit a storage fault and still would.

        Cheap while writes succeed (no probe at all); after a fault it probes with a write
        that changes nothing, so readiness comes back by itself once space returns.
        """
        if self.write_fault is None:
            return
        try:
            writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
            with writer.begin() as connection:
                if self.is_sqlite:
                    # Rewriting the header's user_version (unused here) takes the write
                    # lock and writes a page: it fails exactly when a real write would.
                    version = connection.exec_driver_sql("PRAGMA user_version").scalar()
                    connection.exec_driver_sql(f"PRAGMA user_version = {int(version or 0)}")
                else:
                    # A temporary table writes the catalog (disk full shows) but is allowed
                    # in a read-only transaction, so that is asked for separately.
                    connection.execute(text("CREATE TEMPORARY TABLE readiness_probe (x int)"))
                    connection.execute(text("DROP TABLE readiness_probe"))
                    if connection.execute(text("SHOW transaction_read_only")).scalar() == "on":
                        raise StorageUnavailable("read-only")
        except DBAPIError as error:
            kind = storage_fault(error)
            if kind is None:
                raise
            _drop_read_only_connections(self.engine, kind)
            raise StorageUnavailable(kind) from error
        except StorageUnavailable as fault:
            _drop_read_only_connections(self.engine, fault.kind)
            raise
        self.write_fault = None

    def dispose(self) -> None:
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()


def _drop_read_only_connections(engine: Engine, kind: str) -> None:
    """Pooled connections keep how they were opened (a PostgreSQL session's
    default_transaction_read_only, a SQLite file opened read-only): after a read-only
    fault drop them, so requests open fresh ones once the database is writable again.
    Other faults keep the pool: closing SQLite's last connection would delete the WAL
    and free the very space whose lack the fault reports."""
    if kind == "read-only":
        engine.dispose()


def prepare_sqlite_file(url: str) -> None:
    """Create a SQLite database file with mode 0600 before SQLite creates it 0644.

    SQLite gives the -wal and -shm files the mode of the database file, so all three
    stay readable by the server's user only. In-memory databases have no file.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir():  # otherwise SQLite's own error names the missing folder
        ensure_private_file(path)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred-only).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    if not guard.enabled:
        # Test-only: the concurrency control tests switch the lock off to show what
        # writers do without it (tests/concurrency); production never clears the guard.
        mode = "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")
