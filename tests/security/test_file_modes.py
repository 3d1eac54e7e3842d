"""Item 10: the data folder and the database files are private to the server's user."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from openvisit.store.db import Database
from tests.conftest import TEST_SECRET
from tests.security.cli import run_cli


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_data_folder_and_database_files_are_private(tmp_path):
    data_dir = tmp_path / "new" / "data"

    result = run_cli("db", "upgrade", cwd=tmp_path, data_dir=str(data_dir), secret_key=TEST_SECRET)
    assert result.returncode == 0, result.stderr
    database = Database(f"sqlite:///{data_dir / 'openvisit.db'}")
    try:
        with database.write() as session:  # WAL mode: this makes -wal and -shm
            session.execute(text("CREATE TABLE probe (id INTEGER)"))
        files = {path.name: _mode(path) for path in data_dir.iterdir()}
    finally:
        database.dispose()

    assert _mode(data_dir) == 0o700
    assert {"openvisit.db", "openvisit.db-wal", "openvisit.db-shm"} <= files.keys()
    assert files == dict.fromkeys(files, 0o600)


def test_generated_secret_key_lives_in_a_private_folder(tmp_path):
    data_dir = tmp_path / "data"

    result = run_cli("config", cwd=tmp_path, data_dir=str(data_dir))
    assert result.returncode == 0, result.stderr
    result = run_cli("db", "upgrade", cwd=tmp_path, data_dir=str(data_dir))
    assert result.returncode == 0, result.stderr

    assert _mode(data_dir) == 0o700
    assert not (data_dir / "secret_key").exists()  # only `serve` makes the key
