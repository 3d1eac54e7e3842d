"""`openvisit backup FILE` and `openvisit restore FILE` for SQLite and PostgreSQL.

SQLite: sqlite3's online backup API copies the database page by page under a read
snapshot, so a backup taken while the server writes is consistent; restoring goes the
same way in the other direction, under SQLite's write lock. PostgreSQL: pg_dump's custom
format (one consistent snapshot) and pg_restore, from Debian's postgresql-client.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, MetaData, inspect, make_url, select, text
from sqlalchemy.exc import OperationalError

from openvisit.startup import StartupError
from openvisit.store.db import Database, prepare_sqlite_file
from openvisit.store.migrate import upgrade

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
SQLITE_TIMEOUT_SECONDS = 15.0
CLIENT_HINT = "install PostgreSQL's client tools (Debian: apt-get install postgresql-client)"


class BackupError(StartupError):
    """A backup or restore a person can fix (a file, a tool); the command prints the text.

    Not a DomainError: no request is ever answered with one, so it has no API reason.
    """


def backup(database_url: str, target: Path) -> None:
    """Write a consistent copy of the database to the new file `target` (mode 0600)."""
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(descriptor)  # mkstemp made it 0600; the copy keeps that mode
    try:
        if _is_sqlite(database_url):
            _sqlite_backup(_sqlite_path(database_url), Path(temporary))
        else:
            url, password = _libpq_url(database_url)
            _run("pg_dump", "--format=custom", f"--file={temporary}", url, password=password)
        try:
            os.link(temporary, target)  # never half a backup under the name asked for
        except FileExistsError:
            raise BackupError(f"{target} exists already; choose a new file name.") from None
    finally:
        os.unlink(temporary)


def restore(database_url: str, source: Path, *, force: bool) -> None:
    """Replace the database with the backup `source`, then migrate it to this version."""
    try:
        with source.open("rb") as stream:
            head = stream.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"Cannot read {source}: {error.strerror}.") from error
    sqlite = _is_sqlite(database_url)
    expected, kind = (SQLITE_MAGIC, "SQLite") if sqlite else (PG_DUMP_MAGIC, "pg_dump custom")
    if not head.startswith(expected):
        raise BackupError(
            f"{source} is not a {kind} backup, which this {'SQLite' if sqlite else 'PostgreSQL'}"
            " database needs (SQLite and PostgreSQL backups do not mix)."
        )
    if not sqlite and not shutil.which("pg_restore"):
        raise BackupError(
            f"This needs PostgreSQL's pg_restore, which is not on PATH; {CLIENT_HINT}."
        )
    if not force and not _is_empty(database_url):
        raise BackupError(
            "The database holds data; run `openvisit restore --force FILE` to replace it."
        )
    if sqlite:
        _sqlite_restore(source, database_url)
    else:
        _drop_everything(database_url)
        url, password = _libpq_url(database_url)
        _run(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url}",
            str(source),
            password=password,
        )
    upgrade(database_url)  # a backup of an older version gets this version's schema


def _is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("Only a SQLite database in a file can be backed up.")
    return Path(database)


def _sqlite_backup(path: Path, target: Path) -> None:
    if not path.is_file():
        raise BackupError(f"There is no database at {path} to back up.")
    # Read-only: a backup never creates or changes the database it copies.
    source = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=SQLITE_TIMEOUT_SECONDS
    )
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        [(verdict,)] = copy.execute("PRAGMA integrity_check").fetchall()
        if verdict != "ok":
            raise BackupError(f"The copy failed its integrity check: {verdict}")
    finally:
        copy.close()
        source.close()


def _sqlite_restore(source: Path, database_url: str) -> None:
    path = _sqlite_path(database_url)
    prepare_sqlite_file(database_url)  # a new database file is private like any other
    backup_file = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    live = sqlite3.connect(path, timeout=SQLITE_TIMEOUT_SECONDS)
    try:
        [(verdict,)] = backup_file.execute("PRAGMA integrity_check").fetchall()
        if verdict != "ok":
            raise BackupError(f"{source} failed its integrity check: {verdict}")
        # Under SQLite's write lock: a running server sees the old or the new data.
        backup_file.backup(live)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"Cannot restore {source}: {error}") from error
    finally:
        live.close()
        backup_file.close()


def _is_empty(database_url: str) -> bool:
    """No table other than Alembic's bookkeeping holds a row."""
    database = Database(database_url)
    try:
        with _connected(database) as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            for table in metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                if connection.execute(select(text("1")).select_from(table).limit(1)).first():
                    return False
        return True
    finally:
        database.dispose()


@contextlib.contextmanager
def _connected(database: Database) -> Iterator[Connection]:
    try:
        connection = database.engine.connect()
    except OperationalError as error:
        raise BackupError(f"Cannot open the database: {error.orig}".strip()) from error
    with connection:
        yield connection


def _drop_everything(database_url: str) -> None:
    """Drop every table, so tables newer than the backup cannot block its restore."""
    database = Database(database_url)
    try:
        with database.engine.begin() as connection:
            for name in inspect(connection).get_table_names():
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    finally:
        database.dispose()


def _libpq_url(database_url: str) -> tuple[str, dict[str, str]]:
    """A URL libpq's tools accept, and the environment that carries its password.

    The password goes in PGPASSWORD, not on the command line where `ps` shows it.
    """
    url = make_url(database_url)
    env = {"PGPASSWORD": url.password} if url.password else {}
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(tool: str, *args: str, password: dict[str, str]) -> None:
    if not shutil.which(tool):
        raise BackupError(f"This needs PostgreSQL's {tool}, which is not on PATH; {CLIENT_HINT}.")
    result = subprocess.run(  # noqa: S603 - a fixed tool and arguments we built
        [tool, *args], env={**os.environ, **password}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()}")
