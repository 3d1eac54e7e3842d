"""`openvisit backup` and `openvisit restore` through the real command, on both databases."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from openvisit.config import normalize_database_url
from openvisit.store.migrate import alembic_config, upgrade
from tests.databases import POSTGRES_ADMIN_URL, requested_backends
from tests.operations.env import hermetic_env

# Each transaction adds 200 rows, so a consistent copy holds a multiple of 200.
WRITER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("CREATE TABLE IF NOT EXISTS load (n INTEGER, pad TEXT)")
print("ready", flush=True)
while True:
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO load VALUES (?, ?)", [(i, "x" * 200) for i in range(200)])
    db.execute("COMMIT")
"""
TABLES = ("businesses", "services", "staff_members", "customers", "staff_users", "api_tokens")


@pytest.fixture(params=requested_backends())
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database of the backend asked for: a file name, or a new PostgreSQL one."""
    if request.param == "sqlite":
        yield ""  # the default: openvisit.db in the data folder
        return
    name = f"openvisit_backup_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _openvisit(data_dir: Path, database_url: str, *args: str, path: str | None = None):
    env = hermetic_env(data_dir, database_url=database_url)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "openvisit", *args],
        env=env,
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _url(data_dir: Path, database_url: str) -> str:
    return normalize_database_url(database_url or None, data_dir)


def _snapshot(url: str) -> dict[str, object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            counts = {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
                for table in TABLES
            }
            names = connection.execute(text("SELECT display_name FROM businesses")).scalars()
            return {**counts, "names": sorted(names)}
    finally:
        engine.dispose()


def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def test_backup_and_restore_bring_the_data_back(tmp_path, database_url):
    url = _url(tmp_path, database_url)
    assert _openvisit(tmp_path, database_url, "demo").returncode == 0
    seeded = _snapshot(url)
    backup_file = tmp_path / "openvisit.backup"

    made = _openvisit(tmp_path, database_url, "backup", str(backup_file))
    _execute(url, "DELETE FROM customers", "UPDATE businesses SET display_name = 'Changed'")
    refused = _openvisit(tmp_path, database_url, "restore", str(backup_file))
    changed = _snapshot(url)
    restored = _openvisit(tmp_path, database_url, "restore", "--force", str(backup_file))

    assert made.returncode == 0, made.stderr
    assert backup_file.stat().st_mode & 0o777 == 0o600
    assert seeded["customers"] and seeded["names"] == ["Contoso Health"]
    assert refused.returncode == 2
    assert "openvisit: The database holds data; run `openvisit restore --force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert changed["customers"] == 0 and changed["names"] == ["Changed"]
    assert restored.returncode == 0, restored.stderr
    assert _snapshot(url) == seeded


def test_restoring_an_older_backup_migrates_it(tmp_path, database_url):
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir(mode=0o700)
    new_dir.mkdir(mode=0o700)
    old_url = _url(old_dir, database_url)
    upgrade(old_url, "0001")  # a backup from the first release
    backup_file = tmp_path / "old.backup"
    assert _openvisit(old_dir, database_url, "backup", str(backup_file)).returncode == 0
    if database_url:  # PostgreSQL: restore into the same database, emptied
        _execute(old_url, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")

    restored = _openvisit(new_dir, database_url, "restore", str(backup_file))

    head = ScriptDirectory.from_config(alembic_config(old_url)).get_current_head()
    new_url = _url(new_dir, database_url)
    engine = create_engine(new_url)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert restored.returncode == 0, restored.stderr
    assert version == head != "0001"


def test_a_sqlite_backup_taken_while_another_process_writes_is_consistent(tmp_path):
    database = tmp_path / "openvisit.db"
    upgrade(f"sqlite:///{database}")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        results = [
            _openvisit(tmp_path, "", "backup", str(tmp_path / f"copy{number}.db"))
            for number in range(2)
        ]
        assert writer.poll() is None  # it wrote all along
    finally:
        writer.kill()
        writer.wait(timeout=10)
        if writer.stdout is not None:
            writer.stdout.close()

    for number, result in enumerate(results):
        assert result.returncode == 0, result.stderr
        copy = sqlite3.connect(tmp_path / f"copy{number}.db")
        [(verdict,)] = copy.execute("PRAGMA integrity_check").fetchall()
        [(rows,)] = copy.execute("SELECT count(*) FROM load").fetchall()
        copy.close()
        assert verdict == "ok"
        assert rows > 0 and rows % 200 == 0


def test_postgres_backup_names_the_missing_pg_dump(tmp_path):
    url = POSTGRES_ADMIN_URL  # never connected to: the tool is looked for first
    result = _openvisit(tmp_path, url, "backup", str(tmp_path / "x.backup"), path=str(tmp_path))

    assert result.returncode == 2
    assert "openvisit: This needs PostgreSQL's pg_dump, which is not on PATH" in result.stderr
    assert "postgresql-client" in result.stderr
    assert not (tmp_path / "x.backup").exists()


def test_a_backup_never_overwrites_a_file(tmp_path):
    existing = tmp_path / "keep.backup"
    existing.write_text("precious")

    result = _openvisit(tmp_path, "", "backup", str(existing))

    assert result.returncode == 2
    assert "exists already" in result.stderr
    assert existing.read_text() == "precious"


def test_a_sqlite_url_relative_to_the_working_folder_is_backed_up(tmp_path):
    relative = "sqlite:///relative.db"
    assert _openvisit(tmp_path, relative, "db", "upgrade").returncode == 0

    result = _openvisit(tmp_path, relative, "backup", "relative.backup")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "relative.backup").read_bytes().startswith(b"SQLite format 3\x00")


def test_restore_into_a_database_that_cannot_be_opened_says_so(tmp_path):
    backup_file = tmp_path / "empty.backup"
    backup_file.write_bytes(b"PGDMP")  # looks like a dump; the database is checked first
    missing = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/openvisit_no_such_database"

    result = _openvisit(tmp_path, missing, "restore", str(backup_file))

    assert result.returncode == 2
    assert result.stderr.startswith("openvisit: Cannot open the database:")
    assert "Traceback" not in result.stderr
