"""Every endpoint needs a bearer token (401) holding the scope Graph names for it (403)."""

from __future__ import annotations

import pytest

from openvisit.auth.tokens import list_tokens, revoke_token
from openvisit.meetings.staff_users import create_user
from tests.factories import BUSINESSES, make_business, make_customer, make_service

READ = "Bookings.Read.All"
APPOINTMENTS = "BookingsAppointment.ReadWrite.All"
READWRITE = "Bookings.ReadWrite.All"
MANAGE = "Bookings.Manage.All"
LADDER = (READ, APPOINTMENTS, READWRITE, MANAGE)

# (method, path template, body, least privileged scope Graph documents)
OPERATIONS = [
    ("GET", "{b}", None, READ),
    ("GET", "", None, READ),
    ("POST", "", {"displayName": "New Clinic"}, MANAGE),
    ("PATCH", "{b}", {"phone": "+1 206 555 0100"}, READWRITE),
    ("POST", "{b}/publish", None, MANAGE),
    ("POST", "{b}/unpublish", None, MANAGE),
    ("DELETE", "{b}", None, MANAGE),
    ("GET", "{b}/services", None, READ),
    ("POST", "{b}/services", {"displayName": "Checkup"}, READWRITE),
    ("PATCH", "{b}/services/{s}", {"notes": "n"}, READWRITE),
    ("DELETE", "{b}/services/{s}", None, READWRITE),
    ("GET", "{b}/staffMembers", None, READ),
    (
        "POST",
        "{b}/staffMembers",
        {"displayName": "Ann", "emailAddress": "ann@example.test", "role": "viewer"},
        READWRITE,
    ),
    ("GET", "{b}/customers/{c}", None, READ),
    ("POST", "{b}/customers", {"displayName": "Jo"}, APPOINTMENTS),
    ("PATCH", "{b}/customers/{c}", {"displayName": "Jo B"}, APPOINTMENTS),
    ("DELETE", "{b}/customers/{c}", None, APPOINTMENTS),
    ("GET", "{b}/customQuestions", None, READ),
    ("POST", "{b}/customQuestions", {"displayName": "Why?"}, APPOINTMENTS),
]


def _url(template: str, ids: dict[str, str]) -> str:
    path = template.format(**ids)
    return f"{BUSINESSES}/{path}".rstrip("/")


@pytest.fixture
def ids(runtime) -> dict[str, str]:
    business = make_business(runtime)
    return {
        "b": business,
        "s": make_service(runtime, business),
        "c": make_customer(runtime, business),
    }


@pytest.mark.parametrize(("method", "template", "body", "least"), OPERATIONS)
def test_scopes_follow_graph_permissions(client, make_token, ids, method, template, body, least):
    url = _url(template, ids)

    anonymous = client.request(method, url, json=body)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    rank = LADDER.index(least)
    if rank > 0:
        weaker = make_token(LADDER[rank - 1])
        denied = client.request(
            method, url, json=body, headers={"Authorization": f"Bearer {weaker}"}
        )
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "accessDenied"
        assert least in denied.json()["error"]["message"]

    allowed = client.request(
        method, url, json=body, headers={"Authorization": f"Bearer {make_token(least)}"}
    )
    assert allowed.status_code < 300, allowed.text


def test_higher_scope_grants_lower_operations(client, make_token, runtime):
    business = make_business(runtime)
    token = make_token(MANAGE)

    response = client.get(
        f"{BUSINESSES}/{business}/services", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200


def test_unknown_and_malformed_tokens_are_refused(client, runtime):
    business = make_business(runtime)
    for header in ("Bearer ovt_not-a-token", "Basic dXNlcjpwYXNz", "Bearer"):
        response = client.get(f"{BUSINESSES}/{business}", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_revoked_token_is_refused(client, runtime, make_token):
    business = make_business(runtime)
    token = make_token(READ)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{BUSINESSES}/{business}", headers=headers).status_code == 200

    revoke_token(runtime.db, runtime.clock, list_tokens(runtime.db)[0].id)

    assert client.get(f"{BUSINESSES}/{business}", headers=headers).status_code == 401


def test_me_needs_user_read(client, runtime, make_token):
    create_user(
        runtime.db,
        runtime.clock,
        email="boss@example.test",
        role="administrator",
        password="long-enough-1",
    )

    denied = client.get("/v1.0/me", headers={"Authorization": f"Bearer {make_token(MANAGE)}"})
    allowed = client.get("/v1.0/me", headers={"Authorization": f"Bearer {make_token('User.Read')}"})

    assert denied.status_code == 403
    assert allowed.json()["jobTitle"] == "administrator"


def test_me_is_the_token_user_or_the_first_administrator(client, runtime, make_token):
    create_user(
        runtime.db,
        runtime.clock,
        email="boss@example.test",
        role="administrator",
        password="long-enough-1",
    )
    create_user(
        runtime.db,
        runtime.clock,
        email="ann@example.test",
        role="teamMember",
        password="long-enough-2",
    )

    own = client.get(
        "/v1.0/me", headers={"Authorization": f"Bearer {make_token(user='ann@example.test')}"}
    )
    default = client.get("/v1.0/me", headers={"Authorization": f"Bearer {make_token()}"})

    assert own.json()["mail"] == "ann@example.test"
    assert default.json()["mail"] == "boss@example.test"
