"""The provider's day board, live: arrivals, admission from the board, a guest's signals."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.realtime.peers import Peer, connected, hello
from tests.visits import Visit


def _status(peer: Peer, wanted: str) -> dict[str, Any]:
    while True:
        board: dict[str, Any] = peer.until("board")["board"]
        if board["appointments"][0]["status"] == wanted:
            return board


def test_the_board_shows_the_day_and_admits_from_it(rt_client: TestClient, visit: Visit) -> None:
    with connected(rt_client, cookie=visit.provider_cookie) as board:
        day = hello(board, board=True)["snapshot"]["board"]
        assert (day["date"], day["timeZone"]) == ("2026-11-24", "America/New_York")
        [item] = day["appointments"]
        assert (item["meetingId"], item["status"], item["customerName"]) == (
            visit.meeting_id,
            "upcoming",
            "Jordan Lee",
        )
        assert item["joinUrl"] == f"/visits/{visit.meeting_id}"
        with connected(rt_client) as consumer:
            me = hello(consumer, join=visit.consumer_token)["you"]["participantId"]
            assert _status(board, "waiting")["appointments"][0]["waitedSeconds"] == 0
            consumer.send({"type": "chat.send", "text": "I am here", "clientMessageId": "1"})
            assert board.until("chat")["message"]["text"] == "I am here"
            board.send({"type": "admit", "id": "go", "participantId": me})
            assert board.until("ack")["id"] == "go"
            assert consumer.until("admitted")["type"] == "admitted"
            _status(board, "inCall")


def test_signals_go_to_their_addressee_only(rt_client: TestClient, visit: Visit) -> None:
    with connected(rt_client, cookie=visit.provider_cookie) as provider:
        staff = hello(provider, meeting=visit.meeting_id)
        provider.send({"type": "invite", "id": "i", "displayName": "Interpreter"})
        join_url = provider.until("ack")["joinUrl"]
        token = join_url.rsplit("/join/", 1)[1]
        with connected(rt_client) as consumer, connected(rt_client) as guest:
            consumer_id = hello(consumer, join=visit.consumer_token)["you"]["participantId"]
            you = hello(guest, join=token)["you"]
            assert (you["role"], you["displayName"]) == ("guest", "Interpreter")
            for participant in (consumer_id, you["participantId"]):
                provider.send({"type": "admit", "participantId": participant})
            consumer.until("snapshot")
            guest.until("snapshot")
            offer = {"type": "offer", "sdp": "for the provider"}
            guest.send(
                {"type": "signal", "to": staff["you"]["participantId"], "description": offer}
            )
            assert provider.until("signal")["from"] == you["participantId"]
            consumer.send({"type": "ping", "t": 9})
            frames = []
            while (frame := consumer.frame())["type"] != "pong":
                frames.append(frame["type"])
            assert "signal" not in frames
