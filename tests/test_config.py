import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from openvisit.config import SENSITIVE_SETTINGS, Settings, UnsafeSettingsError, resolve_secret_key
from openvisit.startup import explain


def test_defaults_are_sqlite_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=tmp_path / "d")

    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'd').resolve()}/openvisit.db"
    assert settings.port == 8000


def test_plain_postgres_url_gets_the_psycopg_driver():
    settings = Settings(database_url="postgresql://app:pw@db:5432/visits")

    assert settings.resolved_database_url == "postgresql+psycopg://app:pw@db:5432/visits"
    assert settings.masked()["database_url"] == "postgresql+psycopg://app:***@db:5432/visits"


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENVISIT_PORT", "9123")
    monkeypatch.setenv("OPENVISIT_BASE_URL", "https://visits.example/")
    monkeypatch.setenv("OPENVISIT_DATA_DIR", str(tmp_path))

    settings = Settings()

    assert settings.port == 9123
    assert settings.public_base_url == "https://visits.example"
    assert settings.data_dir == Path(tmp_path)


def test_base_url_follows_host_and_port_unless_set():
    assert Settings(port=8321).public_base_url == "http://127.0.0.1:8321"
    assert Settings(host="0.0.0.0", port=80).public_base_url == "http://127.0.0.1:80"
    assert Settings(host="::1").public_base_url == "http://[::1]:8000"
    assert Settings(port=1, base_url="https://v.example/").public_base_url == "https://v.example"


def test_secret_is_generated_once_and_kept(tmp_path):
    settings = Settings(data_dir=tmp_path)

    first = resolve_secret_key(settings)
    second = resolve_secret_key(settings)

    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("value", ["changethis", "secret", "short-but-not-placeholder"])
def test_placeholder_secrets_are_refused_outside_dev_mode(tmp_path, value):
    with pytest.raises(UnsafeSettingsError):
        resolve_secret_key(Settings(data_dir=tmp_path, secret_key=value))

    assert resolve_secret_key(Settings(data_dir=tmp_path, secret_key=value, dev_mode=True)) == value


def test_masked_never_shows_the_secret(tmp_path):
    masked = Settings(data_dir=tmp_path, secret_key="x" * 40).masked()

    assert "x" * 40 not in str(masked)


def test_workers_and_threads_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("OPENVISIT_WORKERS", raising=False)
    monkeypatch.delenv("OPENVISIT_THREADS", raising=False)
    assert (Settings().workers, Settings().threads) == (1, 8)

    monkeypatch.setenv("OPENVISIT_WORKERS", "2")
    monkeypatch.setenv("OPENVISIT_THREADS", "4")

    assert (Settings().workers, Settings().threads) == (2, 4)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OPENVISIT_WORKERS", "0"),
        ("OPENVISIT_WORKERS", "65"),
        ("OPENVISIT_THREADS", "0"),
        ("OPENVISIT_THREADS", "257"),
        ("OPENVISIT_THREADS", "many"),
    ],
)
def test_workers_and_threads_out_of_bounds_are_refused(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError, match=variable.removeprefix("OPENVISIT_").lower()):
        Settings()


def test_workers_and_threads_bounds_are_inclusive():
    assert Settings(workers=64, threads=256).model_dump(include={"workers", "threads"}) == {
        "workers": 64,
        "threads": 256,
    }
    assert Settings(workers=1, threads=1).threads == 1


def test_the_callers_settings_do_not_reach_the_tests():
    """A shell with OPENVISIT_PORT and friends set runs the same suite to the same result."""
    polluted = {
        **os.environ,
        "OPENVISIT_PORT": "9999",
        "OPENVISIT_BASE_URL": "https://elsewhere.example",
        "OPENVISIT_DEV_MODE": "true",
        "OPENVISIT_WORKERS": "3",
        "OPENVISIT_TEST_BACKENDS": "sqlite",
    }
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-k",
            "defaults",
            str(root / "tests" / "test_config.py"),
        ],
        env=polluted,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]


PG_URL = "postgresql://app@db:5432/visits"
REDIS_URL = "redis://cache:6379/0"


@pytest.mark.parametrize(
    ("settings", "bus"),
    [
        ({}, "inprocess"),
        ({"database_url": "sqlite:////tmp/x.db"}, "inprocess"),
        ({"database_url": PG_URL}, "postgres"),
        ({"database_url": "postgres://app@db/visits"}, "postgres"),
        ({"database_url": "postgresql+psycopg://app@db/visits"}, "postgres"),
        ({"redis_url": REDIS_URL}, "redis"),
        ({"redis_url": REDIS_URL, "database_url": PG_URL}, "redis"),  # Redis wins
        ({"event_bus": "inprocess", "redis_url": REDIS_URL, "database_url": PG_URL}, "inprocess"),
        ({"event_bus": "postgres", "redis_url": REDIS_URL, "database_url": PG_URL}, "postgres"),
        ({"event_bus": "redis", "redis_url": REDIS_URL}, "redis"),
    ],
)
def test_the_event_bus_auto_and_explicit_choices(settings, bus):
    assert Settings(**settings).resolved_event_bus == bus


def test_the_event_bus_defaults_to_auto_and_reads_the_environment(monkeypatch):
    assert Settings().event_bus == "auto"

    monkeypatch.setenv("OPENVISIT_EVENT_BUS", "inprocess")
    monkeypatch.setenv("OPENVISIT_REDIS_URL", REDIS_URL)

    assert Settings().resolved_event_bus == "inprocess"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"event_bus": "postgres"},
            "OPENVISIT_EVENT_BUS=postgres needs a PostgreSQL database: set "
            "OPENVISIT_DATABASE_URL=postgresql://..., or use OPENVISIT_EVENT_BUS=redis with "
            "OPENVISIT_REDIS_URL.",
        ),
        (
            {"event_bus": "postgres", "database_url": "sqlite:////tmp/x.db"},
            "OPENVISIT_EVENT_BUS=postgres needs a PostgreSQL database",
        ),
        (
            {"event_bus": "redis", "database_url": PG_URL},
            "OPENVISIT_EVENT_BUS=redis needs OPENVISIT_REDIS_URL (redis://host:6379/0).",
        ),
        ({"event_bus": "redis", "redis_url": ""}, "OPENVISIT_EVENT_BUS=redis needs"),
        ({"event_bus": "zeromq"}, "Input should be 'auto', 'inprocess', 'redis' or 'postgres'"),
    ],
)
def test_an_event_bus_that_cannot_work_is_refused(settings, message):
    with pytest.raises(ValidationError, match="event_bus") as raised:
        Settings(**settings)

    assert message in str(raised.value)


# What a setting's name says about its value: a credential, or a URL that may carry one.
SECRET_NAMES = re.compile(r"(password|secret|token|_key$|access_key|_url$)")
NOT_SECRET = {"base_url", "twilio_api_base_url"}  # public addresses, shown in links and logs


def test_every_secret_setting_is_sensitive():
    named = {name for name in Settings.model_fields if SECRET_NAMES.search(name)} - NOT_SECRET
    assert named <= SENSITIVE_SETTINGS, named - SENSITIVE_SETTINGS
    assert {
        "secret_key",
        "database_url",
        "redis_url",
        "metrics_token",
        "turn_secret",
        "smtp_password",
        "twilio_auth_token",
        "twilio_api_key_secret",
        "acs_access_key",
    } <= SENSITIVE_SETTINGS


@pytest.mark.parametrize("name", sorted(SENSITIVE_SETTINGS))
def test_a_bad_sensitive_value_is_not_echoed(name):
    secret = "hunter2-do-not-print"
    with pytest.raises(ValidationError) as caught:
        Settings(**{name: [secret]})  # type: ignore[arg-type]  # refused: not a string

    message = explain(caught.value)

    assert message is not None and f"OPENVISIT_{name.upper()}" in message
    assert secret not in message


def test_a_bad_url_is_shown_with_its_password_masked():
    with pytest.raises(ValidationError) as caught:
        Settings(stun_urls="stun://user:hunter2@stun.example.org")

    message = explain(caught.value)

    assert message is not None and "OPENVISIT_STUN_URLS" in message
    assert "hunter2" not in message and "stun.example.org" in message
