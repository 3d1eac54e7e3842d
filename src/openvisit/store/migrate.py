"""Apply and inspect Alembic migrations without an alembic.ini on disk."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url, text

from openvisit.store.db import prepare_sqlite_file

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on a literal % in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    if database_url.startswith("sqlite"):
        prepare_sqlite_file(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def revisions(database_url: str) -> tuple[str | None, str]:
    """(the database's revision, None when it has none; the newest this code knows).

    Reads only: a SQLite file that does not exist is not created.
    """
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError("no migrations found")
    url = make_url(database_url)
    database = url.database or ""
    sqlite_file = url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if sqlite_file and not Path(database).is_file():
        return None, head
    engine = create_engine(database_url)
    try:
        # Read alembic's table directly: a MigrationContext would log its set-up lines.
        with engine.connect() as connection:
            current = None
            if inspect(connection).has_table(VERSION_TABLE):
                current = connection.execute(
                    text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 - a constant
                ).scalar()
    finally:
        engine.dispose()
    return current, head
