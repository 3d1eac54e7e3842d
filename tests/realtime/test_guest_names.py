"""A guest names themselves in `hello`: everyone sees that name, and a bad one is refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openvisit.runtime import Runtime
from openvisit.store.models import MeetingAttendance, MeetingMessage, MeetingParticipant
from tests.realtime.peers import Peer, connected, hello
from tests.visits import Visit

ANA = "<b>Ana</b> (interpreter)"


def _invite(provider: Peer, name: str = "Interpreter") -> str:
    """The guest token of a new invitation staff made under `name`."""
    provider.send({"type": "invite", "id": "i", "displayName": name})
    join_url: str = provider.until("ack")["joinUrl"]
    return join_url.rsplit("/join/", 1)[1]


def _waiting_names(peer: Peer) -> list[str]:
    return [person["displayName"] for person in peer.until("waiting")["waiting"]]


def _guests(runtime: Runtime) -> list[tuple[str, int]]:
    """Each guest row's name, and how many stretches of presence it has."""
    with runtime.db.read() as session:
        rows = session.execute(
            select(MeetingParticipant.display_name, func.count(MeetingAttendance.id))
            .outerjoin(MeetingAttendance, MeetingAttendance.participant_id == MeetingParticipant.id)
            .where(MeetingParticipant.role == "guest")
            .group_by(MeetingParticipant.id)
        ).all()
    return [(name, count) for name, count in rows]


def test_the_name_a_guest_types_is_what_staff_the_board_and_the_call_see(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime
) -> None:
    with (
        connected(rt_client, cookie=visit.provider_cookie) as provider,
        connected(rt_client, cookie=visit.provider_cookie) as board,
    ):
        hello(provider, meeting=visit.meeting_id)
        hello(board, board=True)
        token = _invite(provider)
        with connected(rt_client) as guest:
            you = hello(guest, join=token, name=f"  {ANA}\u00a0 ")["you"]
            assert (you["role"], you["displayName"]) == ("guest", ANA)  # trimmed, kept as typed
            assert _waiting_names(provider) == [ANA]
            assert _waiting_names(board) == [ANA]
            provider.send({"type": "admit", "participantId": you["participantId"]})
            snapshot = guest.until("snapshot")["snapshot"]
            assert {p["displayName"] for p in snapshot["participants"]} == {ANA, "Dr. Ann"}
            joined = provider.until("participant")
            assert (joined["event"], joined["participant"]["displayName"]) == ("joined", ANA)
            guest.send({"type": "chat.send", "text": "Hola", "clientMessageId": "m1"})
            assert provider.until("chat")["message"]["displayName"] == ANA
    with visit_runtime.db.read() as session:
        assert session.scalars(select(MeetingMessage.sender_name)).all() == [ANA]
    assert _guests(visit_runtime) == [(ANA, 2)]  # a stretch in the lobby, one in the call


def test_a_guest_keeps_their_name_on_rejoin_and_may_change_it(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime
) -> None:
    with connected(rt_client, cookie=visit.provider_cookie) as provider:
        hello(provider, meeting=visit.meeting_id)
        token = _invite(provider)
        with connected(rt_client) as guest:
            assert hello(guest, join=token, name="Ana")["you"]["displayName"] == "Ana"
        # Another tab that was not asked (no name in its hello) is still Ana.
        with connected(rt_client) as guest:
            assert hello(guest, join=token)["you"]["displayName"] == "Ana"
        with connected(rt_client) as guest:
            assert hello(guest, join=token, name="Ana Ruiz")["you"]["displayName"] == "Ana Ruiz"
    assert _guests(visit_runtime) == [("Ana Ruiz", 3)]


def test_a_consumer_is_named_by_the_appointment_whatever_the_hello_says(
    rt_client: TestClient, visit: Visit
) -> None:
    with connected(rt_client) as consumer:
        you = hello(consumer, join=visit.consumer_token, name="Somebody Else")["you"]
    assert (you["role"], you["displayName"]) == ("consumer", "Jordan Lee")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "hello.name: Value error, A name has 1 to 80 characters."),
        (" \t ", "hello.name: Value error, A name has 1 to 80 characters."),
        ("a" * 81, "hello.name: Value error, A name has 1 to 80 characters."),
        ("Ana\nRuiz", "hello.name: Value error, A name may not contain control characters."),
        ("\x1b[31mAna", "hello.name: Value error, A name may not contain control characters."),
        ("An\u0085a", "hello.name: Value error, A name may not contain control characters."),
        (42, "hello.name: Input should be a valid string"),
    ],
)
def test_a_bad_name_is_a_protocol_error_and_nothing_is_stored(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime, name: Any, message: str
) -> None:
    with connected(rt_client, cookie=visit.provider_cookie) as provider:
        hello(provider, meeting=visit.meeting_id)
        token = _invite(provider, "Maria")
        with connected(rt_client) as guest:
            guest.send({"type": "hello", "v": 1, "join": token, "name": name})
            code, frames = guest.closed()
    assert code == 4400
    assert frames == [{"type": "error", "code": "protocolError", "message": message}]
    assert _guests(visit_runtime) == [("Maria", 0)]  # the invitation's name, never present


def test_eighty_characters_are_a_name(rt_client: TestClient, visit: Visit) -> None:
    longest = "Ä" * 80
    with connected(rt_client, cookie=visit.provider_cookie) as provider:
        hello(provider, meeting=visit.meeting_id)
        token = _invite(provider)
        with connected(rt_client) as guest:
            assert hello(guest, join=token, name=f" {longest} ")["you"]["displayName"] == longest
