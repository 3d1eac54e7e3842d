"""Item 14: a start-up error a person can fix is one `openvisit:` line, exit 2, no traceback.

Each case runs the real command in a subprocess with only the settings it names.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.databases import POSTGRES_ADMIN_URL, requested_backends
from tests.security.cli import run_cli


def _refused(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()  # one line, nothing logged before it
    assert line.startswith("openvisit: ")
    for phrase in phrases:
        assert phrase in line


def _upgrade(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    settings.setdefault("data_dir", str(tmp_path / "data"))
    return run_cli("db", "upgrade", cwd=tmp_path, user=None, secret_key=TEST_SECRET, **settings)


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    assert _upgrade(tmp_path).returncode == 0
    return tmp_path / "data" / "openvisit.db"


def test_a_file_that_is_not_a_database(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "openvisit.db").write_bytes(os.urandom(8192))

    _refused(_upgrade(tmp_path), "not a SQLite database", "OPENVISIT_DATA_DIR", "backup")


def test_a_truncated_database(tmp_path, migrated):
    with migrated.open("r+b") as database:
        database.truncate(3000)

    _refused(_upgrade(tmp_path), "damaged", "truncated", "OPENVISIT_DATA_DIR")


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """Make `path` unwritable even for root (whose file modes are no obstacle)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o400)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o600)


def test_a_read_only_database(tmp_path, migrated):
    with _read_only(migrated):
        result = _upgrade(tmp_path)

    _refused(result, "is read-only", "OPENVISIT_DATA_DIR")


def test_a_database_newer_than_the_code(tmp_path, migrated):
    with contextlib.closing(sqlite3.connect(migrated)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        connection.commit()

    _refused(_upgrade(tmp_path), "newer OpenVisit", "9999_from_the_future", "backup")


def test_a_data_folder_that_is_a_file(tmp_path):
    (tmp_path / "data").write_text("not a folder")

    _refused(_upgrade(tmp_path), "OPENVISIT_DATA_DIR", "is a file, not a folder")


def _postgres(database: str, *, port: int | None = None) -> str:
    base = POSTGRES_ADMIN_URL.rpartition("/")[0]
    if port is not None:
        base = base.rpartition(":")[0] + f":{port}"
    return f"{base}/{database}"


def test_an_unreachable_postgresql_server(tmp_path):
    result = _upgrade(tmp_path, database_url=_postgres("test", port=1))

    _refused(result, "Cannot connect to PostgreSQL", "OPENVISIT_DATABASE_URL")


@pytest.mark.parametrize("backend", [name for name in requested_backends() if name == "postgresql"])
def test_a_missing_postgresql_database(tmp_path, backend):
    result = _upgrade(tmp_path, database_url=_postgres("openvisit_no_such_database"))

    _refused(result, "openvisit_no_such_database does not exist", "createdb")


@pytest.mark.parametrize(
    "url",
    ["mysql://app:pw@db/visits", "mongodb://db/visits", "/var/lib/openvisit.db", "sqlite3:///x"],
)
def test_an_unsupported_url_scheme(tmp_path, url):
    _refused(_upgrade(tmp_path, database_url=url), "OPENVISIT_DATABASE_URL", "unsupported scheme")


@pytest.mark.parametrize(
    "password", ["p@ss", "p/ss", "p#ss", "p?ss", "100%"], ids=["at", "slash", "hash", "ask", "pct"]
)
def test_a_password_that_is_not_url_encoded(tmp_path, password):
    url = f"postgresql://app:{password}@127.0.0.1:5432/visits"

    result = _upgrade(tmp_path, database_url=url)

    _refused(result, "OPENVISIT_DATABASE_URL", "percent-encode")
    assert password not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "phrase"),
    [
        ("port", "eighty", "OPENVISIT_PORT: Input should be a valid integer"),
        ("workers", "0", "OPENVISIT_WORKERS: Input should be greater than or equal to 1"),
        ("log_format", "xml", "OPENVISIT_LOG_FORMAT: Input should be 'text' or 'json'"),
        ("dev_mode", "maybe", "OPENVISIT_DEV_MODE: Input should be a valid boolean"),
    ],
)
def test_a_bad_setting_names_its_variable(tmp_path, variable, value, phrase):
    _refused(_upgrade(tmp_path, **{variable: value}), phrase, "Fix or unset the variable")
