"""Per-test databases on every backend the run asks for.

SQLite: the migrations run once into a template file; each test gets a fresh copy.
PostgreSQL: the migrations run once into a database created for this run; each test
ends by deleting every row, so tests that commit (services own transactions) stay
isolated without sharing state.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import event, text

from openvisit.store.db import Database
from openvisit.store.migrate import upgrade
from openvisit.store.models import Base

POSTGRES_ADMIN_URL = os.environ.get(
    "OPENVISIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def requested_backends() -> list[str]:
    names = os.environ.get("OPENVISIT_TEST_BACKENDS", "sqlite,postgresql")
    return [name.strip() for name in names.split(",") if name.strip()]


class SqliteTemplate:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template = folder / "template.db"
        upgrade(f"sqlite:///{self.template}")

    @contextmanager
    def database(self) -> Iterator[Database]:
        path = self.folder / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        database = Database(f"sqlite:///{path}")
        try:
            yield database
        finally:
            database.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresDatabase:
    def __init__(self) -> None:
        self.name = f"openvisit_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')
        base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
        self.url = f"{base}/{self.name}".replace("postgresql://", "postgresql+psycopg://", 1)
        upgrade(self.url)
        # DELETE beats TRUNCATE on tables this small (TRUNCATE rewrites files).
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        self._clear = [text(f'DELETE FROM "{name}"') for name in tables]  # noqa: S608 - ours

    @contextmanager
    def database(self) -> Iterator[Database]:
        database = Database(self.url)
        try:
            yield database
        finally:
            with database.engine.begin() as connection:
                for statement in self._clear:
                    connection.execute(statement)
            database.dispose()

    def drop(self) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@contextmanager
def count_statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement `database` sends inside the block, in order."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
