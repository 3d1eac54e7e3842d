"""`openvisit user list|set-password|disable` and `openvisit session list|revoke` against a
real data folder, with a copied session cookie checked through the app afterwards."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openvisit.auth.sessions import SESSION_COOKIE
from openvisit.cli import main
from openvisit.clock import FixedClock, SystemClock
from openvisit.store.db import Database
from tests.conftest import build_test_runtime
from tests.web.test_sign_in import EMAIL, PASSWORD, staff_page_with_session, submit_login


@pytest.fixture
def data_env(tmp_path, monkeypatch) -> Iterator[Database]:
    for name in list(os.environ):
        if name.startswith("OPENVISIT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPENVISIT_DATA_DIR", str(tmp_path))
    args = ["user", "create", "--email", EMAIL, "--role", "administrator"]
    assert main([*args, "--password", PASSWORD]) == 0
    database = Database(f"sqlite:///{tmp_path / 'openvisit.db'}")
    yield database
    database.dispose()


@pytest.fixture
def server(data_env: Database, _shared_app: FastAPI) -> TestClient:
    """The app on the CLI's database, as a running server beside the CLI would be."""
    # The CLI reads the system clock, so the server here keeps time with it.
    _shared_app.state.runtime = build_test_runtime(data_env, FixedClock(SystemClock().now()))
    return TestClient(_shared_app, follow_redirects=False, client=("192.0.2.10", 1234))


def sign_in_copy(server: TestClient) -> str:
    assert submit_login(server).status_code == 303
    return server.cookies[SESSION_COOKIE]


def test_user_list_shows_users_without_secrets(data_env, capsys):
    capsys.readouterr()
    assert main(["user", "list"]) == 0

    out = capsys.readouterr().out
    assert EMAIL in out
    assert "administrator  active" in out
    assert "argon2" not in out
    assert PASSWORD not in out


def test_set_password_from_stdin_ends_every_session(server, capsys, monkeypatch):
    copy = sign_in_copy(server)
    monkeypatch.setattr("sys.stdin", io.StringIO("a fresh long password\n"))

    assert main(["user", "set-password", EMAIL]) == 0

    assert "1 session(s) ended" in capsys.readouterr().out
    assert staff_page_with_session(server, copy).status_code == 303
    assert submit_login(server).status_code == 401
    assert submit_login(server, password="a fresh long password").status_code == 303


def test_set_password_option_and_refusals(data_env, capsys, monkeypatch):
    assert main(["user", "set-password", EMAIL, "--password", "short"]) == 2
    assert "password must have 8" in capsys.readouterr().err
    assert main(["user", "set-password", "nobody@example.test", "--password", "long enough"]) == 2
    assert "no staff user" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["user", "set-password", EMAIL]) == 2
    assert "no password on standard input" in capsys.readouterr().err


def test_disable_revokes_sessions_and_tokens(server, capsys):
    copy = sign_in_copy(server)
    main(["token", "create", "--name", "n", "--scopes", "Bookings.Read.All", "--user", EMAIL])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert server.get("/v1.0/solutions/bookingBusinesses", headers=headers).status_code == 200

    assert main(["user", "disable", EMAIL]) == 0

    assert "1 session(s) and 1 token(s) revoked" in capsys.readouterr().out
    assert staff_page_with_session(server, copy).status_code == 303
    assert submit_login(server).status_code == 401
    main(["user", "list"])
    assert "disabled" in capsys.readouterr().out
    # The running server may trust a verified token for up to TOKEN_CACHE_SECONDS; by
    # the database it is revoked now.
    main(["token", "list"])
    assert "revoked" in capsys.readouterr().out


def test_session_list_and_revoke_by_id(server, capsys):
    copy = sign_in_copy(server)
    capsys.readouterr()

    assert main(["session", "list", "--user", EMAIL]) == 0
    listing = capsys.readouterr().out
    [line] = listing.strip().splitlines()
    assert EMAIL in line
    assert "active" in line
    assert "from 192.0.2.10" in line
    assert copy not in listing
    session_id = line.split()[0]

    assert main(["session", "revoke", session_id]) == 0

    assert f"session {session_id} revoked" in capsys.readouterr().out
    assert staff_page_with_session(server, copy).status_code == 303
    main(["session", "list"])
    assert capsys.readouterr().out.strip() == ""
    main(["session", "list", "--all"])
    assert "revoked" in capsys.readouterr().out


def test_session_revoke_by_user(server, capsys):
    copies = [sign_in_copy(server)]
    server.cookies.clear()
    copies.append(sign_in_copy(server))

    assert main(["session", "revoke", "--user", EMAIL]) == 0

    assert "2 session(s) of ada@example.test revoked" in capsys.readouterr().out
    for copy in copies:
        assert staff_page_with_session(server, copy).status_code == 303


def test_session_revoke_needs_an_id_or_a_user(data_env, capsys):
    with pytest.raises(SystemExit):
        main(["session", "revoke"])
    assert main(["session", "revoke", "no-such-session"]) == 2
    assert "no session" in capsys.readouterr().err
