"""Item 12: `openvisit config` never prints a password, whatever form the URL takes."""

from __future__ import annotations

import json

import pytest

from openvisit.config import mask_url_password
from tests.security.cli import run_cli

SECRET = "s3cr3t"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://app:s3cr3t@db:5432/visits", "postgresql://app:***@db:5432/visits"),
        ("postgresql://app:s3%40cr%3At@db/visits", "postgresql://app:***@db/visits"),
        ("postgresql://app:s3@cr:3t@db/visits", "postgresql://app:***@db/visits"),
        ("postgresql://app:s3/cr3t@db/visits", "postgresql://app:***@db/visits"),
        ("redis://:s3cr3t@cache:6379/0", "redis://:***@cache:6379/0"),
        ("rediss://default:s3cr3t@cache:6380", "rediss://default:***@cache:6380"),
        ("redis://cache:6379/0?password=s3cr3t&db=1", "redis://cache:6379/0?password=***&db=1"),
        (
            "postgresql://db/visits?user=app&password=s3cr3t",
            "postgresql://db/visits?user=app&password=***",
        ),
        ("host=db dbname=visits password=s3cr3t", "host=db dbname=visits password=***"),
        ("postgresql://app@db/visits", "postgresql://app@db/visits"),
        ("sqlite:////var/lib/openvisit/openvisit.db", "sqlite:////var/lib/openvisit/openvisit.db"),
    ],
)
def test_every_form_of_password_is_masked(url, masked):
    assert mask_url_password(url) == masked


def test_openvisit_config_prints_no_password(tmp_path):
    result = run_cli(
        "config",
        cwd=tmp_path,
        data_dir=str(tmp_path),
        database_url="postgresql://app:s3%40cr3t@db:5432/visits",
        redis_url="redis://cache:6379/0?password=s3cr3t",
        base_url="https://admin:s3cr3t@visits.example",
        secret_key="k" * 20 + "ey-0123456789abcdef",
    )

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert SECRET not in result.stdout
    assert "s3%40cr3t" not in result.stdout
    assert printed["database_url"] == "postgresql+psycopg://app:***@db:5432/visits"
    assert printed["redis_url"] == "redis://cache:6379/0?password=***"
    assert printed["base_url"] == "https://admin:***@visits.example"
    assert printed["secret_key"] == "********"
