"""The CLI against a real data folder, as a person runs it beside a server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from openvisit.cli import main


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENVISIT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OPENVISIT_DATABASE_URL", raising=False)
    return tmp_path


def test_token_create_prints_the_token_alone_on_the_last_line(data_env, capsys):
    assert (
        main(
            [
                "user",
                "create",
                "--email",
                "ann@example.test",
                "--role",
                "scheduler",
                "--password",
                "long-enough",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "token",
                "create",
                "--name",
                "ci",
                "--scopes",
                "Bookings.Read.All BookingsAppointment.ReadWrite.All",
                "--user",
                "ann@example.test",
            ]
        )
        == 0
    )

    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("ovt_")
    assert " " not in last


def test_tokens_are_listed_without_secrets_and_can_be_revoked(data_env, capsys):
    main(["token", "create", "--name", "ci", "--scopes", "Bookings.Read.All"])
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    main(["token", "list"])
    listing = capsys.readouterr().out
    token_id = listing.split()[0]

    assert secret not in listing
    assert "active" in listing
    assert main(["token", "revoke", token_id]) == 0
    main(["token", "list"])
    assert "revoked" in capsys.readouterr().out


def test_unknown_scope_is_refused(data_env, capsys):
    assert main(["token", "create", "--name", "x", "--scopes", "Bookings.Everything"]) == 2
    assert "unknown scope" in capsys.readouterr().err


def test_config_masks_secrets(data_env, capsys, monkeypatch):
    monkeypatch.setenv("OPENVISIT_SECRET_KEY", "s" * 40)

    assert main(["config"]) == 0
    printed = json.loads(capsys.readouterr().out)

    assert printed["secret_key"] == "********"
    assert printed["data_dir"] == str(data_env)


def test_demo_seeds_and_prints_an_admin_token(data_env, capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out

    assert "contosohealth@openvisit.local" in out
    assert out.strip().splitlines()[-1].startswith("ovt_")


def test_demo_run_twice_adds_nothing_and_hands_out_a_new_token(data_env, capsys):
    assert main(["demo"]) == 0
    first = capsys.readouterr().out.strip().splitlines()[-1]

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    second = out.strip().splitlines()[-1]

    assert "exists already" in out
    assert second.startswith("ovt_")
    assert second != first


def test_python_dash_m_runs_the_cli(data_env):
    result = subprocess.run(
        [sys.executable, "-m", "openvisit", "db", "upgrade"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert (data_env / "openvisit.db").exists()
