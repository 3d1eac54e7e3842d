"""The visit pages through TestClient: the join link's stages, refused links, the device
check endpoint and its probes, and the staff pages behind the sign-in."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from openvisit.addresses import Client
from openvisit.auth.sessions import SESSION_COOKIE, start_session
from openvisit.bookings.page_limits import LIMIT
from openvisit.clock import FixedClock
from openvisit.join_links import join_token
from openvisit.meetings.device_checks import MAX_RESULT_BYTES
from openvisit.meetings.staff_users import create_user
from openvisit.store.models import MeetingParticipant, OnlineMeeting
from tests.conftest import TEST_SECRET
from tests.realtime.test_ice_welcome import ICE as RELAY_ICE
from tests.realtime.test_ice_welcome import WALL, assert_signed_at_wall_time
from tests.visits import Visit, make_visit

RESULT: dict[str, Any] = {
    "browser": {"supported": True, "name": "Chrome 156"},
    "camera": "ok",
    "microphone": "blocked",
    "speaker": "untested",
    "network": {"reachable": True, "relay": False, "roundTripMs": 12, "downlinkKbps": 8000},
    "checkedAt": "2026-11-23T13:59:00Z",
}
_CONFIG = re.compile(r'<script type="application/json" id="visit-config">(.*?)</script>', re.S)


@pytest.fixture
def visit(runtime) -> Visit:
    return make_visit(runtime)


def config_of(html: str) -> dict[str, Any]:
    found = _CONFIG.search(html)
    assert found, "the page has no visit-config block"
    return dict(json.loads(found.group(1)))


def participant(runtime, meeting_id: str) -> MeetingParticipant | None:
    with runtime.db.read() as session:
        found: MeetingParticipant | None = session.scalars(
            select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting_id)
        ).one_or_none()
        return found


def test_join_page_carries_its_stages_and_config(client, visit):
    answer = client.get(f"/join/{visit.consumer_token}")

    assert answer.status_code == 200
    html = answer.text
    for stage in ("stage-check", "stage-lobby", "stage-call"):
        assert f'id="{stage}"' in html
    assert '<script type="module" src="/static/visit/join.js"></script>' in html
    assert "Tuesday, November 24, 2026" in html
    assert "10:00\u202fAM \u2013 10:30\u202fAM" in html  # New York: the business's zone
    assert "New York (UTC-05:00)" in html
    config = config_of(html)
    assert config["page"] == "join"
    assert config["join"] == visit.consumer_token
    assert config["meetingId"] == visit.meeting_id
    assert config["role"] == "consumer"
    assert config["displayName"] == "Jordan Lee"
    assert config["socketPath"] == "/realtime/v1"
    assert config["rtcConfiguration"] == {"iceServers": [], "iceTransportPolicy": "all"}
    assert config["texts"]["yourPlace"] == "You are number {position} in line"
    assert config["texts"]["waitMinutes.other"] == "about {n} minutes"
    assert answer.headers["X-Robots-Tag"] == "noindex"
    assert "script-src" not in answer.headers["Content-Security-Policy"]  # no relaxation
    assert f'href="/book/{visit.clinic["business"]}/brand.css"' in html


def test_join_page_speaks_german_and_the_asked_zone(client, visit):
    answer = client.get(
        f"/join/{visit.consumer_token}?tz=Europe/Berlin", headers={"Accept-Language": "de"}
    )

    assert answer.status_code == 200
    assert "Dienstag, 24. November 2026" in answer.text
    assert "16:00 \u2013 16:30" in answer.text
    assert "Berlin (UTC+01:00)" in answer.text
    texts = config_of(answer.text)["texts"]
    assert texts["yourPlace"] == "Sie sind Nummer {position} in der Warteschlange"
    assert texts["lateMinutes.one"] == "Ihre Ansprechperson verspätet sich um {n} Minute."
    assert texts["lateMinutes.other"] == "Ihre Ansprechperson verspätet sich um {n} Minuten."


_TROUBLE = re.compile(
    r'<div id="call-trouble" class="problem" role="alert" hidden>(.*?)</div>', re.S
)


def call_trouble(html: str) -> str:
    """The text of the call's (hidden) notice for a connection that never comes up."""
    found = _TROUBLE.search(html)
    assert found, "the page has no hidden call-trouble notice"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_the_call_says_what_to_try_when_it_cannot_connect(client, visit):
    english = call_trouble(client.get(f"/join/{visit.consumer_token}").text)
    german = call_trouble(
        client.get(f"/join/{visit.consumer_token}", headers={"Accept-Language": "de"}).text
    )
    client.cookies.set(SESSION_COOKIE, visit.provider_cookie)
    staff = call_trouble(client.get(f"/visits/{visit.meeting_id}").text)

    assert english.startswith("Can't connect the call Your network may block video calls.")
    assert "Try another network" in english
    assert "Your provider can also phone you." in english
    assert german.startswith("Der Anruf kann nicht verbunden werden Ihr Netzwerk")
    assert "Ihre Ansprechperson kann Sie auch anrufen." in german
    assert staff.startswith("Can't connect the call Their network, or this one,")
    assert "or phone them." in staff


def _guest_token(runtime, visit: Visit, guest_id: str) -> str:
    return join_token(
        TEST_SECRET,
        visit.meeting_id,
        role="guest",
        version=0,
        end=runtime.clock.now() + timedelta(days=1),
        guest_id=guest_id,
    )


def test_a_guest_is_asked_their_name_prefilled_with_the_invitations(client, runtime, visit):
    with runtime.db.write() as session:  # as staff's invitation leaves it
        session.add(
            MeetingParticipant(
                id="p-ana",
                meeting_id=visit.meeting_id,
                participant_key="guest:ana",
                role="guest",
                display_name="<b>Ana</b>",
                state="invited",
            )
        )

    invited = client.get(f"/join/{_guest_token(runtime, visit, 'ana')}").text
    unnamed = client.get(f"/join/{_guest_token(runtime, visit, 'other')}").text
    consumer = client.get(f"/join/{visit.consumer_token}").text

    assert 'id="stage-name"' in invited
    assert '<label for="guest-name">Your name</label>' in invited
    field = re.search(r'<input id="guest-name"[^>]*>', invited)
    assert field is not None
    assert 'required maxlength="80" value="&lt;b&gt;Ana&lt;/b&gt;"' in field.group(0)
    assert config_of(invited)["role"] == "guest"
    assert re.search(r'<input id="guest-name"[^>]* value=""', unnamed)  # not "Guest"
    assert 'id="stage-name"' not in consumer


def test_standalone_check_page(client, visit):
    answer = client.get(f"/join/{visit.consumer_token}/check")

    assert answer.status_code == 200
    assert '<script type="module" src="/static/visit/check.js"></script>' in answer.text
    assert 'id="stage-lobby"' not in answer.text
    config = config_of(answer.text)
    assert config["page"] == "check"
    assert config["checkUrl"] == f"/join/{visit.consumer_token}/check"
    assert config["rtcConfiguration"]["iceServers"] == []


def tampered(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


@pytest.mark.parametrize("path", ["", "/check"])
def test_a_tampered_link_gets_a_404_page_without_a_script(client, visit, path):
    answer = client.get(f"/join/{tampered(visit.consumer_token)}{path}")

    assert answer.status_code == 404
    assert "This link does not work" in answer.text
    assert "/static/visit/" not in answer.text
    assert "visit-config" not in answer.text
    assert "Jordan" not in answer.text


def test_an_expired_link_says_ask_for_a_new_one(client, visit, clock):
    clock.advance(timedelta(days=2))

    answer = client.get(f"/join/{visit.consumer_token}")

    assert answer.status_code == 410
    assert "This link has expired" in answer.text
    assert "ask the business that sent it for a new link" in answer.text
    assert "/static/visit/" not in answer.text


def test_a_revoked_link_is_branded(client, runtime, visit):
    with runtime.db.write() as session:
        session.execute(
            update(OnlineMeeting)
            .where(OnlineMeeting.id == visit.meeting_id)
            .values(link_version=OnlineMeeting.link_version + 1)
        )

    answer = client.get(f"/join/{visit.consumer_token}")

    assert answer.status_code == 410
    assert "This link was replaced" in answer.text
    assert f'href="/book/{visit.clinic["business"]}/brand.css"' in answer.text
    assert "/static/visit/" not in answer.text


def test_a_cancelled_visit_says_so_in_german(client, runtime, visit):
    with runtime.db.write() as session:
        session.execute(
            update(OnlineMeeting)
            .where(OnlineMeeting.id == visit.meeting_id)
            .values(status="cancelled")
        )

    answer = client.get(f"/join/{visit.consumer_token}", headers={"Accept-Language": "de"})

    assert answer.status_code == 410
    assert "Dieser Termin wurde abgesagt" in answer.text
    assert "/static/visit/" not in answer.text


def test_the_device_check_result_is_stored_on_a_new_participant(client, runtime, visit):
    assert participant(runtime, visit.meeting_id) is None

    answer = client.post(f"/join/{visit.consumer_token}/check", json=RESULT)

    assert answer.status_code == 200
    assert answer.json() == {"deviceCheck": RESULT}
    row = participant(runtime, visit.meeting_id)
    assert row is not None
    assert (row.participant_key, row.role, row.state) == ("consumer", "consumer", "invited")
    assert row.display_name == "Jordan Lee"
    assert row.device_check == RESULT
    assert row.device_checked_at == runtime.clock.now()


def test_a_second_result_replaces_the_first(client, runtime, visit):
    client.post(f"/join/{visit.consumer_token}/check", json=RESULT)
    better = {**RESULT, "microphone": "ok", "speaker": "ok"}

    answer = client.post(f"/join/{visit.consumer_token}/check", json=better)

    assert answer.status_code == 200
    row = participant(runtime, visit.meeting_id)
    assert row is not None
    assert row.device_check == better


def test_a_guest_gets_a_row_of_its_own(client, runtime, visit):
    guest = _guest_token(runtime, visit, "g1")

    answer = client.post(f"/join/{guest}/check", json=RESULT)

    assert answer.status_code == 200
    row = participant(runtime, visit.meeting_id)
    assert row is not None
    assert (row.participant_key, row.role) == ("guest:g1", "guest")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({**RESULT, "camera": "fine"}, "camera"),
        ({**RESULT, "extra": 1}, "extra"),
        ({k: v for k, v in RESULT.items() if k != "network"}, "network"),
        ({**RESULT, "network": {**RESULT["network"], "roundTripMs": -1}}, "network.roundTripMs"),
        ({**RESULT, "browser": {"supported": "yes", "name": "x"}}, "browser.supported"),
        ({**RESULT, "checkedAt": "2026-11-23T13:59:00"}, "checkedAt"),
    ],
)
def test_a_malformed_result_is_refused_and_nothing_stored(client, runtime, visit, body, where):
    answer = client.post(f"/join/{visit.consumer_token}/check", json=body)

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalidDeviceCheck"
    assert where in error["message"] or "time zone" in error["message"]
    assert participant(runtime, visit.meeting_id) is None


def test_an_oversized_result_is_refused(client, runtime, visit):
    body = {**RESULT, "browser": {"supported": True, "name": "x" * MAX_RESULT_BYTES}}

    answer = client.post(f"/join/{visit.consumer_token}/check", json=body)

    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payloadTooLarge"
    assert participant(runtime, visit.meeting_id) is None


def test_results_count_against_the_address_limit(client, visit):
    for _post in range(LIMIT):
        assert client.post(f"/join/{visit.consumer_token}/check", json=RESULT).status_code == 200

    answer = client.post(f"/join/{visit.consumer_token}/check", json=RESULT)

    assert answer.status_code == 429
    assert answer.json()["error"]["code"] == "tooManyRequests"
    assert int(answer.headers["Retry-After"]) > 0


def test_a_result_must_be_json(client, visit):
    answer = client.post(
        f"/join/{visit.consumer_token}/check",
        content=json.dumps(RESULT),
        headers={"Content-Type": "text/plain"},
    )

    assert answer.status_code == 415
    assert answer.json()["error"]["code"] == "unsupportedMediaType"


def test_a_refused_link_cannot_store_a_result(client, runtime, visit):
    answer = client.post(f"/join/{tampered(visit.consumer_token)}/check", json=RESULT)

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "invalid"
    assert participant(runtime, visit.meeting_id) is None


def test_the_probes_answer_uncached_and_bounded(client, visit):
    base = f"/join/{visit.consumer_token}/check"

    ping = client.get(f"{base}/ping")
    sample = client.get(f"{base}/download?kb=64")
    default = client.get(f"{base}/download")
    too_big = client.get(f"{base}/download?kb=513")

    assert ping.status_code == 204
    assert ping.headers["Cache-Control"] == "no-store, no-transform"
    assert sample.status_code == 200
    assert len(sample.content) == 64 * 1024
    assert sample.headers["Cache-Control"] == "no-store, no-transform"
    assert sample.headers["Content-Type"] == "application/octet-stream"
    assert len(default.content) == 256 * 1024
    assert too_big.status_code == 400


def test_the_probes_need_a_genuine_link(client, visit):
    base = f"/join/{tampered(visit.consumer_token)}/check"

    assert client.get(f"{base}/ping").status_code == 404
    assert client.get(f"{base}/download").status_code == 404


def test_the_speaker_tone_is_served(client):
    answer = client.get("/static/visit/tone.wav")

    assert answer.status_code == 200
    assert answer.content[:4] == b"RIFF"


# Staff pages


def sign_in_cookie(runtime, user_id: str) -> str:
    with runtime.db.write() as session:
        signed = start_session(
            session,
            runtime.clock.now(),
            user_id,
            max_age_seconds=runtime.session_max_age_seconds,
            client=Client(address="127.0.0.1", user_agent="tests"),
        )
    return signed.nonce


@pytest.mark.parametrize("path", ["/visits/today", "/visits/some-meeting"])
def test_staff_pages_send_a_signed_out_visitor_to_the_login(client, path):
    answer = client.get(path, follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={path}"


def test_the_provider_page(client, visit):
    client.cookies.set(SESSION_COOKIE, visit.provider_cookie)

    answer = client.get(f"/visits/{visit.meeting_id}")

    assert answer.status_code == 200
    html = answer.text
    assert '<script type="module" src="/static/visit/staff.js"></script>' in html
    assert 'id="waiting-list"' in html
    assert 'id="stage-call"' in html
    assert "Jordan Lee" in html
    assert "10:00\u202fAM" in html
    config = config_of(html)
    assert (config["page"], config["meetingId"], config["role"]) == (
        "staff",
        visit.meeting_id,
        "provider",
    )
    assert config["displayName"] == "Dr. Ann"


def test_the_pages_network_check_gets_turn_credentials_by_the_wall_clock(
    app, client, runtime, visit
):
    # The pinned test clock would stamp credentials coturn refuses as expired.
    app.state.runtime = dataclasses.replace(runtime, ice=RELAY_ICE, wall_clock=FixedClock(WALL))
    client.cookies.set(SESSION_COOKIE, visit.provider_cookie)

    for path in (f"/join/{visit.consumer_token}", f"/visits/{visit.meeting_id}"):
        configuration = config_of(client.get(path).text)["rtcConfiguration"]
        participant_key = configuration["iceServers"][0]["username"].split(":", 1)[1]
        assert_signed_at_wall_time(configuration, participant_key)


def test_another_staff_member_may_not_run_the_visit(client, runtime, visit):
    other = create_user(
        runtime.db,
        runtime.clock,
        email="zed@example.test",
        role="teamMember",
        password=None,
        display_name="Zed",
        actor="test",
    )
    client.cookies.set(SESSION_COOKIE, sign_in_cookie(runtime, other.id))

    answer = client.get(f"/visits/{visit.meeting_id}")
    missing = client.get("/visits/no-such-meeting")

    assert answer.status_code == 403
    assert "Not your visit" in answer.text
    assert '<script type="module"' not in answer.text
    assert "Jordan" not in answer.text
    assert missing.status_code == 403


def test_the_board_page(client, visit):
    client.cookies.set(SESSION_COOKIE, visit.provider_cookie)

    answer = client.get("/visits/today")

    assert answer.status_code == 200
    assert '<script type="module" src="/static/visit/board.js"></script>' in answer.text
    for column in ("upcoming", "waiting", "inCall", "done"):
        assert f'data-list="{column}"' in answer.text
    assert config_of(answer.text)["page"] == "board"
