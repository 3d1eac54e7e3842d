"""Server-side sessions: a copied cookie dies with log-out, a password change or a disable,
and every sign-in, failure and log-out leaves an audit row with address and user agent."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from openvisit.addresses import parse_networks
from openvisit.auth import accounts, sessions
from openvisit.auth.throttle import account_digest
from openvisit.runtime import Runtime
from openvisit.store.models import AuditRecord, StaffSignInSession
from tests.web.test_sign_in import (
    EMAIL,
    PASSWORD,
    csrf_from,
    make_admin,
    staff_page_with_session,
    submit_login,
)

BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"


@pytest.fixture
def browser(app: FastAPI) -> TestClient:
    return TestClient(
        app,
        follow_redirects=False,
        headers={"User-Agent": BROWSER_AGENT},
        client=("203.0.113.7", 40000),
    )


@pytest.fixture
def signed_in(browser: TestClient, runtime: Runtime) -> TestClient:
    make_admin(runtime)
    assert submit_login(browser).status_code == 303
    return browser


def copied_cookie(client: TestClient) -> str:
    return client.cookies[sessions.SESSION_COOKIE]


def audit_rows(runtime: Runtime, prefix: str = "openvisit.session.") -> list[AuditRecord]:
    with runtime.db.read() as session:
        return list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action.startswith(prefix))
                .order_by(AuditRecord.id)
            )
        )


def test_copied_cookie_stops_working_after_log_out(signed_in):
    copy = copied_cookie(signed_in)
    token = csrf_from(signed_in.get("/staff"))

    assert signed_in.post("/logout", data={"csrf_token": token}).status_code == 303

    # Another browser (or a thief) still holding the cookie is signed out too.
    assert staff_page_with_session(signed_in, copy).status_code == 303


def test_copied_cookie_stops_working_after_a_password_change(signed_in, runtime):
    copy = copied_cookie(signed_in)

    revoked = accounts.set_password(runtime.db, runtime.clock, EMAIL, "a brand new password")

    assert revoked.sessions == 1
    assert staff_page_with_session(signed_in, copy).status_code == 303
    assert submit_login(signed_in).status_code == 401
    assert submit_login(signed_in, password="a brand new password").status_code == 303


def test_disabling_a_user_ends_their_sessions_and_tokens(signed_in, runtime, make_token, client):
    copy = copied_cookie(signed_in)
    token = make_token(user=EMAIL)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1.0/solutions/bookingBusinesses", headers=headers).status_code == 200

    revoked = accounts.disable_user(runtime.db, runtime.clock, EMAIL)

    assert (revoked.sessions, revoked.tokens) == (1, 1)
    assert staff_page_with_session(signed_in, copy).status_code == 303
    assert client.get("/v1.0/solutions/bookingBusinesses", headers=headers).status_code == 401
    assert submit_login(signed_in).status_code == 401


def test_revoking_one_session_leaves_the_others(signed_in, app, runtime):
    other = TestClient(app, follow_redirects=False)
    assert submit_login(other).status_code == 303
    live = sessions.list_sessions(runtime.db, runtime.clock)
    assert len(live) == 2
    first = next(item for item in live if item.user_agent == BROWSER_AGENT)

    sessions.revoke_session(runtime.db, runtime.clock, first.id)

    assert signed_in.get("/staff").status_code == 303
    assert other.get("/staff").status_code == 200
    assert [item.id for item in sessions.list_sessions(runtime.db, runtime.clock)] != [first.id]


def test_the_server_keeps_only_a_digest_of_the_cookie(signed_in, runtime):
    cookie = copied_cookie(signed_in)

    with runtime.db.read() as session:
        row = session.scalars(select(StaffSignInSession)).one()

    assert row.token_digest == hashlib.sha256(cookie.encode()).hexdigest()
    assert cookie not in {row.id, row.token_digest}
    assert (row.client_address, row.user_agent) == ("203.0.113.7", BROWSER_AGENT)
    lifetime = row.expires_date_time - row.created_date_time
    assert lifetime == timedelta(seconds=runtime.session_max_age_seconds)


def test_sign_in_failure_and_log_out_are_audited_with_address_and_agent(browser, runtime):
    user = make_admin(runtime)

    assert submit_login(browser, password="not the password").status_code == 401
    assert submit_login(browser, email="nobody@example.test").status_code == 401
    assert submit_login(browser).status_code == 303
    token = csrf_from(browser.get("/staff"))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303

    rows = audit_rows(runtime)
    assert [row.action for row in rows] == [
        "openvisit.session.sign_in_failed",
        "openvisit.session.sign_in_failed",
        "openvisit.session.signed_in",
        "openvisit.session.signed_out",
    ]
    for row in rows:
        assert row.data["address"] == "203.0.113.7"
        assert row.data["userAgent"] == BROWSER_AGENT
        text = repr(row.data) + row.subject + row.actor
        assert PASSWORD not in text
        assert "not the password" not in text
        assert "@" not in text  # no e-mail address, typed or stored
    wrong_password, unknown, signed_in_row, signed_out = rows
    assert wrong_password.data["userId"] == user.id
    assert "userId" not in unknown.data
    assert unknown.data["emailDigest"] == account_digest(runtime.secret_key, "nobody@example.test")
    assert signed_in_row.subject == signed_out.subject == user.id
    assert signed_in_row.data["sessionId"] == signed_out.data["sessionId"]


def test_audit_names_the_client_behind_a_trusted_proxy(app, runtime):
    app.state.runtime = dataclasses.replace(runtime, trusted_proxies=parse_networks("10.0.0.0/8"))
    make_admin(runtime)
    proxied = TestClient(
        app,
        follow_redirects=False,
        client=("10.1.2.3", 50000),
        headers={"X-Forwarded-For": "198.51.100.9, 10.9.9.9"},
    )

    assert submit_login(proxied).status_code == 303

    [row] = audit_rows(runtime)
    assert row.data["address"] == "198.51.100.9"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(app, runtime):
    app.state.runtime = dataclasses.replace(runtime, trusted_proxies=parse_networks("10.0.0.0/8"))
    make_admin(runtime)
    spoofing = TestClient(
        app,
        follow_redirects=False,
        client=("192.0.2.50", 50000),
        headers={"X-Forwarded-For": "10.0.0.1"},
    )

    assert submit_login(spoofing).status_code == 303

    [row] = audit_rows(runtime)
    assert row.data["address"] == "192.0.2.50"


def test_password_change_and_disable_are_audited(signed_in, runtime):
    accounts.set_password(runtime.db, runtime.clock, EMAIL, "another long password")
    accounts.disable_user(runtime.db, runtime.clock, EMAIL)

    actions = [row.action for row in audit_rows(runtime, "openvisit.user.")]

    assert actions[-2:] == ["openvisit.user.password_changed", "openvisit.user.disabled"]
