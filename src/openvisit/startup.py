"""Start-up failures a person can fix, told as `openvisit: <what is wrong and how to fix it>`.

`check` looks at the settings before anything touches the database; `explain` turns the
errors the first migration or connection raises into one sentence that names the
OPENVISIT_* variable to change. Errors it does not recognise are left to raise: a
traceback is then the honest answer.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from alembic.util import CommandError
from pydantic import ValidationError
from sqlalchemy import exc as sa
from sqlalchemy.engine import make_url

from openvisit import __version__
from openvisit.bus.port import BusError
from openvisit.config import SENSITIVE_SETTINGS
from openvisit.errors import DomainError
from openvisit.redact import mask_url_password
from openvisit.secret_key import UnsafeSettingsError

SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")
URL_VARIABLE = "OPENVISIT_DATABASE_URL"
DIR_VARIABLE = "OPENVISIT_DATA_DIR"
ENCODE_HINT = (
    "percent-encode special characters in the password (@ as %40, : as %3A, / as %2F, "
    "# as %23, ? as %3F, % as %25)"
)
BUSY_SECONDS = 2.0


class StartupError(Exception):
    """A setting or file that stops the server from starting; the text says how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check(data_dir: Path, database_url: str | None, *, sqlite_file: bool = True) -> None:
    """Refuse settings that cannot work, before any file or database is touched.

    `sqlite_file`: also check that an existing SQLite database is readable and writable.
    """
    if data_dir.exists() and not data_dir.is_dir():
        raise StartupError(
            f"{DIR_VARIABLE} names {data_dir}, which is a file, not a folder. Point "
            f"{DIR_VARIABLE} at a folder (it is created if missing) or move the file away."
        )
    if database_url:
        check_database_url(database_url, sqlite_file=sqlite_file)
    elif sqlite_file:
        check_sqlite_file(data_dir / "openvisit.db")


def check_database_url(url: str, *, sqlite_file: bool = True) -> None:
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise StartupError(
            f"{URL_VARIABLE} has the unsupported scheme {scheme or '(none)'!r}. Use "
            "postgresql://user:password@host:5432/dbname, sqlite:////path/to/openvisit.db, "
            f"or unset {URL_VARIABLE} for a SQLite file in the data folder."
        )
    if scheme.startswith("sqlite"):
        database = make_url(url).database
        if sqlite_file and database and database != ":memory:" and not database.startswith("file:"):
            check_sqlite_file(Path(database))
        return
    shown = mask_url_password(url)
    parts = urlsplit(url)
    if parts.netloc.count("@") > 1 or re.search(r"%(?![0-9A-Fa-f]{2})", parts.netloc):
        raise StartupError(
            f"The password in {URL_VARIABLE} ({shown}) is not URL-encoded: {ENCODE_HINT}."
        )
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        raise StartupError(
            f"{URL_VARIABLE} ({shown}) has no valid host:port; if the password holds "
            f"/, #, ? or :, {ENCODE_HINT}."
        ) from None
    if not parts.hostname:
        raise StartupError(f"{URL_VARIABLE} ({shown}) names no host.")


def check_sqlite_file(path: Path) -> None:
    """An existing database file must be a SQLite database this process can write."""
    if not path.is_file():
        return
    try:
        # A short wait: a server writing beside this command holds the lock often, and a
        # lock held by a writer already proves the file writable (see below).
        connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            connection.execute("PRAGMA schema_version")  # reads the header: is it SQLite?
            # SQLite opens a file it cannot write read-only and says so only on a write:
            # rewrite user_version (unused) with its own value, then roll back.
            connection.execute("BEGIN IMMEDIATE")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            connection.execute(f"PRAGMA user_version = {int(version)}")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        if "locked" in str(error) or "busy" in str(error):
            return  # another process is writing it; the migration waits its turn as usual
        raise StartupError(describe_sqlite_error(path, str(error))) from error


def describe_sqlite_error(path: Path | str, detail: str) -> str:
    lowered = detail.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return (
            f"The database {path} is read-only ({detail}). Let the server's user write the "
            f"file and its folder (and any -wal/-shm files beside it), or set {DIR_VARIABLE} "
            "to a writable folder."
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return (
            f"The database {path} is damaged or not a SQLite database ({detail}); it may "
            f"have been truncated. Restore it from a backup, or set {DIR_VARIABLE} to "
            "another folder to start with an empty database."
        )
    if "unable to open" in lowered:
        return (
            f"The database {path} cannot be opened ({detail}). Check that {DIR_VARIABLE} "
            "is a folder the server's user can write."
        )
    return f"The database {path} cannot be used ({detail}). Check {DIR_VARIABLE}."


def explain(error: BaseException, database_url: str | None = None) -> str | None:
    """One sentence for a start-up error a person can fix; None for anything else."""
    shown = mask_url_password(database_url) if database_url else "the database"
    if isinstance(error, StartupError | UnsafeSettingsError | BusError):
        return str(error)
    if isinstance(error, DomainError):
        return error.message
    if isinstance(error, ValidationError):
        return _describe_validation(error)
    if isinstance(error, CommandError) and "Can't locate revision" in str(error):
        revision = re.search(r"identified by '([^']+)'", str(error))
        return (
            f"The database ({shown}) was migrated by a newer OpenVisit than this one "
            f"({__version__}): it is at revision {revision[1] if revision else '?'}, which "
            f"this version does not know. Run the newer OpenVisit, restore a backup taken "
            f"before the upgrade, or point {URL_VARIABLE} / {DIR_VARIABLE} elsewhere."
        )
    if isinstance(error, sa.DBAPIError):
        return _describe_database_error(error, shown)
    if isinstance(error, sa.ArgumentError | sa.NoSuchModuleError):
        return f"{URL_VARIABLE} cannot be used ({error}). Use postgresql://... or sqlite:///..."
    if isinstance(error, PermissionError | NotADirectoryError | FileExistsError):
        return (
            f"Cannot create or write {error.filename or 'the data folder'} ({error.strerror}). "
            f"Set {DIR_VARIABLE} to a folder the server's user can write."
        )
    if isinstance(error, ValueError):
        return str(error)
    return None


def _describe_database_error(error: sa.DBAPIError, shown: str) -> str | None:
    detail = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    lowered = detail.lower()
    if isinstance(error.orig, sqlite3.Error):
        return describe_sqlite_error(shown.removeprefix("sqlite:///"), detail)
    if "does not exist" in lowered and "database" in lowered:
        name = re.search(r'database "([^"]+)"', detail)
        return (
            f"The PostgreSQL database {name[1] if name else ''} does not exist ({shown}). "
            f"Create it (createdb -O <user> <name>) or fix the name in {URL_VARIABLE}."
        )
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return (
            f"PostgreSQL refused the user or password in {URL_VARIABLE} ({shown}): {detail}. "
            f"Fix them, and {ENCODE_HINT}."
        )
    if isinstance(error, sa.OperationalError):
        return (
            f"Cannot connect to PostgreSQL ({shown}): {detail}. Start the server or fix the "
            f"host and port in {URL_VARIABLE}."
        )
    return None


def _shown(value: object) -> object:
    # A URL setting added later may hold a password before anyone marks it sensitive.
    return mask_url_password(value) if isinstance(value, str) else value


def _describe_validation(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "a setting"
        value = "" if field in SENSITIVE_SETTINGS else f" (got {_shown(item.get('input'))!r})"
        problems.append(f"OPENVISIT_{field.upper()}: {mask_url_password(item['msg'])}{value}")
    return "; ".join(problems) + ". Fix or unset the variable (see docs/operations.md)."
