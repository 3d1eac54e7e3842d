"""Who gets a connection, and what a bad frame or a silent client gets: close codes."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from openvisit.join_links import join_token
from openvisit.runtime import Runtime
from openvisit.store.models import MeetingAttendance, MeetingParticipant, OnlineMeeting
from tests.realtime.conftest import FAST, AppMaker
from tests.realtime.peers import connected, hello
from tests.visits import Visit


def _stored(runtime: Runtime) -> tuple[int, int]:
    with runtime.db.read() as session:
        participants = session.scalar(select(func.count()).select_from(MeetingParticipant))
        stretches = session.scalar(select(func.count()).select_from(MeetingAttendance))
    return participants or 0, stretches or 0


def _refused(client: TestClient, **fields: object) -> tuple[int, dict[str, object]]:
    with connected(client) as peer:
        peer.send({"type": "hello", "v": 1, **fields})
        code, frames = peer.closed()
    return code, frames[-1]


def test_tampered_expired_revoked_and_cancelled_links_get_4403_and_nothing_is_stored(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime
) -> None:
    tampered = visit.consumer_token[:-3] + "AAA"
    expired = join_token(
        visit_runtime.secret_key,
        visit.meeting_id,
        role="consumer",
        version=0,
        end=visit_runtime.clock.now() - timedelta(days=1),
    )
    for token in (tampered, expired, "not a token"):
        code, error = _refused(rt_client, join=token)
        assert (code, error["type"], error["code"]) == (4403, "error", "forbidden")
    with visit_runtime.db.write() as session:
        session.execute(update(OnlineMeeting).values(link_version=1))
    assert _refused(rt_client, join=visit.consumer_token)[0] == 4403
    with visit_runtime.db.write() as session:
        session.execute(update(OnlineMeeting).values(link_version=0, status="cancelled"))
    assert _refused(rt_client, join=visit.consumer_token)[0] == 4403
    assert _stored(visit_runtime) == (0, 0)


def test_staff_need_their_sign_in_our_origin_and_the_appointment(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime
) -> None:
    for cookie, origin in ((None, "http://testserver"), (visit.provider_cookie, "https://evil.test"),
                           (visit.provider_cookie, None)):  # fmt: skip
        with connected(rt_client, cookie=cookie, origin=origin) as peer:
            peer.send({"type": "hello", "v": 1, "meeting": visit.meeting_id})
            assert peer.closed()[0] == 4403
    with connected(rt_client, cookie=visit.provider_cookie) as peer:
        peer.send({"type": "hello", "v": 1, "meeting": "no-such-meeting"})
        assert peer.closed()[0] == 4403
    assert _stored(visit_runtime) == (0, 0)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("{not json", "The frame is not valid JSON."),
        ('{"type": "teleport"}', "Unknown or missing frame type."),
        (
            '{"type": "hello", "v": 1, "join": "x", "extra": 1}',
            "hello.extra: Extra inputs are not permitted",
        ),
        (
            '{"type": "chat.send", "text": "hi", "clientMessageId": "1"}',
            "The first frame must be hello.",
        ),
    ],
)
def test_a_bad_first_frame_is_a_protocol_error(
    rt_client: TestClient, frame: str, message: str
) -> None:
    with connected(rt_client) as peer:
        peer.session.send_text(frame)
        code, frames = peer.closed()
    assert code == 4400
    assert frames == [{"type": "error", "code": "protocolError", "message": message}]


def test_frames_not_allowed_in_the_lobby_close_4400(rt_client: TestClient, visit: Visit) -> None:
    with connected(rt_client) as consumer:
        hello(consumer, join=visit.consumer_token)
        consumer.send({"type": "admit", "id": "x", "participantId": "me"})
        code, frames = consumer.closed()
    assert code == 4400
    assert frames[-1] == {
        "type": "error",
        "code": "protocolError",
        "message": "admit is not allowed now.",
        "id": "x",
    }


def test_a_consumer_in_the_call_may_not_act_as_staff(rt_client: TestClient, visit: Visit) -> None:
    with (
        connected(rt_client, cookie=visit.provider_cookie) as provider,
        connected(rt_client) as consumer,
    ):
        hello(provider, meeting=visit.meeting_id)
        me = hello(consumer, join=visit.consumer_token)["you"]["participantId"]
        provider.send({"type": "admit", "participantId": me})
        consumer.until("snapshot")
        consumer.send({"type": "end"})
        assert consumer.closed()[0] == 4400


def test_another_protocol_version_gets_4426(rt_client: TestClient, visit: Visit) -> None:
    with connected(rt_client) as peer:
        peer.send({"type": "hello", "v": 2, "join": visit.consumer_token})
        assert peer.closed()[0] == 4426


def test_no_hello_in_time_gets_4408_and_a_silent_client_too(
    build_app: AppMaker, visit_runtime: Runtime, visit: Visit
) -> None:
    with TestClient(build_app(visit_runtime, FAST)) as client:
        with connected(client) as peer:
            assert peer.closed(timeout=3)[0] == 4408
        with connected(client) as peer:
            hello(peer, join=visit.consumer_token)
            # Pings every 0.2 s, never answered: closed after three intervals.
            assert peer.closed(timeout=3)[0] == 4408
    assert _stored(visit_runtime)[1] == 1
    with visit_runtime.db.read() as session:
        assert session.scalar(select(MeetingAttendance.ended_at)) is not None


def test_the_server_pings_and_answers_pings(
    build_app: AppMaker, visit_runtime: Runtime, visit: Visit
) -> None:
    # Pings as often as FAST's, but a silence of 5 s before the close: the test's own
    # pace under load (it answers nothing until the ping) must not end the connection.
    patient = dataclasses.replace(FAST, missed_heartbeats=25)
    with TestClient(build_app(visit_runtime, patient)) as client, connected(client) as peer:
        hello(peer, join=visit.consumer_token)
        assert peer.until("lobby")["position"] == 1
        frames = [json.loads(peer._receive(3)["text"]) for _ in range(3)]
        assert "ping" in [frame["type"] for frame in frames]
        peer.send({"type": "ping", "t": 5})
        assert peer.until("pong") == {"type": "pong", "t": 5.0}
