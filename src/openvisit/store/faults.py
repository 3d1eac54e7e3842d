"""Storage faults -> one retryable 503, in one place (see docs/operations.md).

A full disk, a database that turned read-only, an I/O error or a PostgreSQL connection
that died under a request is not the caller's mistake and not a bug: the request may
succeed once an operator frees space or the server comes back. Both backends' codes map
here to `StorageUnavailable` (503 `serviceNotAvailable` with Retry-After); the transaction
that hit the fault was rolled back, so nothing half-written stays behind.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Final

from sqlalchemy.exc import DBAPIError

from openvisit.errors import ServiceBusy

# SQLite primary result codes (the low byte of the extended code).
_SQLITE = {
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_IOERR: "io",
    sqlite3.SQLITE_CANTOPEN: "io",
}
# PostgreSQL SQLSTATEs: disk full (53100) and other insufficient resources (53xxx),
# a read-only transaction (25006, a standby or default_transaction_read_only), an
# administrator's shutdown or a backend terminated (57P01-57P03), I/O errors (58030).
_POSTGRES_EXACT = {
    "53100": "full",
    "25006": "read-only",
    "57P01": "connection",
    "57P02": "connection",
    "57P03": "connection",
    "58030": "io",
}
_POSTGRES_CLASSES = {"53": "full", "08": "connection"}  # resources, connection exception

# The reason each kind is answered with (openvisit/reasons.py holds the words).
REASONS: Final = {
    "full": "storageFull",
    "read-only": "storageReadOnly",
    "io": "storageFailing",
    "connection": "databaseConnectionLost",
}
# Space or a writable file comes back when an operator acts; a lost connection at once.
RETRY_AFTER_SECONDS: Final = {"full": 30, "read-only": 30, "io": 30, "connection": 1}


class StorageUnavailable(ServiceBusy):
    """The database cannot take this request now; the client may retry later."""

    def __init__(self, kind: str) -> None:
        super().__init__(REASONS[kind], retry_after_seconds=RETRY_AFTER_SECONDS[kind])
        self.kind = kind


def storage_fault(error: BaseException) -> str | None:
    """The kind of storage fault `error` is ("full", "read-only", "io", "connection")."""
    if not isinstance(error, DBAPIError):
        return None
    original = error.orig
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        if code is not None:
            return _SQLITE.get(code & 0xFF)
        return None
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str):
        kind = _POSTGRES_EXACT.get(sqlstate) or _POSTGRES_CLASSES.get(sqlstate[:2])
        if kind is not None:
            return kind
    # A connection that broke without a server message (closed socket, killed backend).
    return "connection" if error.connection_invalidated else None


# The same faults met by the server's own files next to the database (the writers' lock).
_ERRNOS = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EROFS: "read-only", errno.EIO: "io"}


def file_fault(error: OSError) -> str | None:
    """The kind of storage fault an OSError from a file beside the database is, if any."""
    return _ERRNOS.get(error.errno or 0)
