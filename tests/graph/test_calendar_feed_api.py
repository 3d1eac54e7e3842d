"""openvisit.calendarFeed: make, rotate, see and revoke a staff member's feed over the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openvisit.meetings.staff_users import create_user
from tests.bookings.clinic import make_clinic
from tests.conftest import TEST_NOW
from tests.factories import BUSINESSES, make_staff


@pytest.fixture
def clinic(runtime):
    return make_clinic(runtime)


def feed_url(clinic, staff: str, version: str = "v1.0") -> str:
    root = BUSINESSES.replace("v1.0", version)
    return f"{root}/{clinic['business']}/staffMembers/{staff}/openvisit.calendarFeed"


def test_the_url_is_shown_once_and_then_only_its_prefix(client, auth, clinic):
    made = client.post(feed_url(clinic, clinic["ann"]), headers=auth)

    assert made.status_code == 201, made.text
    body = made.json()
    assert body["url"].startswith("http://testserver/feeds/staff/ovf_")
    assert body["url"].endswith(".ics")
    token = body["url"].removeprefix("http://testserver/feeds/staff/").removesuffix(".ics")
    assert body == {
        "@odata.context": "http://testserver/v1.0/$metadata#openvisit.calendarFeed/$entity",
        "staffMemberId": clinic["ann"],
        "exists": True,
        "prefix": token[:10],
        "createdDateTime": "2026-11-23T14:00:00Z",
        "lastReadDateTime": None,
        "url": body["url"],
    }
    assert client.get(body["url"]).status_code == 200

    shown = client.get(feed_url(clinic, clinic["ann"]), headers=auth)
    assert shown.status_code == 200
    assert shown.json() == {
        "@odata.context": "http://testserver/v1.0/$metadata#openvisit.calendarFeed/$entity",
        "staffMemberId": clinic["ann"],
        "exists": True,
        "prefix": token[:10],
        "createdDateTime": "2026-11-23T14:00:00Z",
        "lastReadDateTime": TEST_NOW.isoformat().replace("+00:00", "Z"),
    }
    assert token not in shown.text


def test_posting_again_rotates_and_the_old_url_stops(client, auth, clinic, runtime):
    first = client.post(feed_url(clinic, clinic["ann"]), headers=auth).json()["url"]
    runtime.clock.advance(timedelta(hours=1))

    second = client.post(feed_url(clinic, clinic["ann"]), headers=auth).json()

    assert second["url"] != first
    assert second["createdDateTime"] == "2026-11-23T15:00:00Z"
    assert client.get(first).status_code == 404
    assert client.get(second["url"]).status_code == 200


def test_revoking_ends_the_feed_and_a_second_revoke_is_404(client, auth, clinic):
    url = client.post(feed_url(clinic, clinic["ann"]), headers=auth).json()["url"]

    revoked = client.delete(feed_url(clinic, clinic["ann"]), headers=auth)

    assert revoked.status_code == 204
    assert client.get(url).status_code == 404
    shown = client.get(feed_url(clinic, clinic["ann"]), headers=auth).json()
    assert (shown["exists"], shown["prefix"], shown["createdDateTime"]) == (False, None, None)
    again = client.delete(feed_url(clinic, clinic["ann"]), headers=auth)
    assert again.status_code == 404
    assert again.json()["error"]["innerError"]["code"] == "calendarFeedNotFound"


def test_unknown_staff_and_businesses_are_404(client, auth, clinic):
    other = make_staff_elsewhere(client, auth)
    for url, reason in [
        (feed_url(clinic, "no-such-staff"), "staffNotFound"),
        (feed_url(clinic, other), "staffNotFound"),  # a staff member of another business
        (feed_url({"business": "nobody@openvisit.test"}, clinic["ann"]), "businessNotFound"),
    ]:
        response = client.post(url, headers=auth)
        assert response.status_code == 404, url
        assert response.json()["error"]["innerError"]["code"] == reason


def make_staff_elsewhere(client, auth) -> str:
    made = client.post(BUSINESSES, json={"displayName": "Fabrikam"}, headers=auth).json()
    staff = client.post(
        f"{BUSINESSES}/{made['id']}/staffMembers",
        json={"displayName": "Dr. Fab", "emailAddress": "fab@example.test", "role": "viewer"},
        headers=auth,
    )
    return str(staff.json()["id"])


def test_segments_match_case_insensitively_and_beta_answers_too(client, auth, clinic):
    url = feed_url(clinic, clinic["ann"]).replace("staffMembers", "staffmembers")
    made = client.post(
        url.replace("openvisit.calendarFeed", "OpenVisit.CalendarFeed"), headers=auth
    )
    assert made.status_code == 201, made.text

    shown = client.get(feed_url(clinic, clinic["ann"], "beta"), headers=auth)
    assert shown.status_code == 200
    assert shown.json()["@odata.context"].startswith("http://testserver/beta/$metadata#")


def test_an_application_token_needs_bookings_manage_all(client, make_token, clinic):
    weaker = {"Authorization": f"Bearer {make_token('Bookings.ReadWrite.All')}"}

    refused = client.post(feed_url(clinic, clinic["ann"]), headers=weaker)

    assert refused.status_code == 403
    assert refused.json()["error"]["innerError"]["code"] == "scopeMissing"


@pytest.mark.parametrize(
    ("role", "own", "other"),
    [
        ("administrator", 201, 201),
        ("scheduler", 201, 201),
        ("teamMember", 201, 403),
        ("viewer", 403, 403),
    ],
)
def test_roles_decide_whose_feed_a_user_may_make(
    runtime, client, make_token, clinic, role, own, other
):
    email = f"{role.lower()}@example.test"
    mine = make_staff(runtime, clinic["business"], f"Staff {role}", role=role, email_address=email)
    create_user(runtime.db, runtime.clock, email=email, role="viewer", password=None)
    headers = {"Authorization": f"Bearer {make_token('Bookings.Manage.All', user=email)}"}

    assert client.post(feed_url(clinic, mine), headers=headers).status_code == own
    refused = client.post(feed_url(clinic, clinic["ann"]), headers=headers)
    assert refused.status_code == other
    if role == "teamMember":
        assert refused.json()["error"]["innerError"]["code"] == "ownCalendarFeedOnly"
        assert client.get(feed_url(clinic, clinic["ann"]), headers=headers).status_code == 403
        assert client.delete(feed_url(clinic, clinic["ann"]), headers=headers).status_code == 403
