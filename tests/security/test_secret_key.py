"""Item 9: the secret key is made atomically and a weak one stops the server at start."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from openvisit.config import Settings, UnsafeSettingsError, resolve_secret_key
from tests.live import free_port
from tests.security.cli import run_cli

STARTERS = 8


def test_two_starters_at_once_sign_with_the_same_key(tmp_path):
    data_dir = tmp_path / "data"
    barrier = threading.Barrier(STARTERS)
    keys: list[str] = []

    def start() -> None:
        barrier.wait()
        keys.append(resolve_secret_key(Settings(data_dir=data_dir)))

    threads = [threading.Thread(target=start) for _ in range(STARTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == STARTERS
    assert len(set(keys)) == 1
    kept = data_dir / "secret_key"
    assert kept.read_text().strip() == keys[0]
    assert kept.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in data_dir.iterdir()) == ["secret_key"]  # no temp file


@pytest.mark.parametrize(
    "content", ["", "\n", "short-key\n", "changeme\n", "x" * 64 + "\n"], ids=repr
)
def test_a_damaged_key_file_is_refused(tmp_path, content):
    (tmp_path / "secret_key").write_text(content)

    with pytest.raises(UnsafeSettingsError, match="delete it to have a new key generated"):
        resolve_secret_key(Settings(data_dir=tmp_path))
    # Development mode is no excuse: the file is ours, so a bad one means a failed start.
    with pytest.raises(UnsafeSettingsError):
        resolve_secret_key(Settings(data_dir=tmp_path, dev_mode=True))


def test_an_empty_key_file_stops_the_server_before_any_migration(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secret_key").write_bytes(b"")  # what a start on a full disk left

    result = run_cli("db", "upgrade", cwd=tmp_path, data_dir=str(data_dir))

    assert result.returncode == 2
    assert result.stderr.startswith("openvisit: The secret key file ")
    assert "is empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (data_dir / "openvisit.db").exists()


@pytest.mark.parametrize("value", ["", "   ", "changeme", "too-short", "a" * 40], ids=repr)
def test_a_weak_configured_key_is_refused_with_how_to_fix_it(tmp_path, value):
    data_dir = str(tmp_path / "data")
    port = str(free_port())  # were the key taken, nothing else on this machine is hit
    result = run_cli("serve", cwd=tmp_path, data_dir=data_dir, port=port, secret_key=value)

    assert result.returncode == 2
    assert result.stderr.startswith("openvisit: OPENVISIT_SECRET_KEY ")
    assert "secrets.token_urlsafe" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "openvisit.db").exists()


def test_an_explicitly_empty_key_is_refused_not_replaced(tmp_path):
    with pytest.raises(UnsafeSettingsError, match="is empty"):
        resolve_secret_key(Settings(data_dir=tmp_path, secret_key=""))

    assert not Path(tmp_path / "secret_key").exists()


def test_development_mode_still_generates_a_key_for_an_empty_value(tmp_path):
    key = resolve_secret_key(Settings(data_dir=tmp_path, secret_key="", dev_mode=True))

    assert len(key) >= 32
