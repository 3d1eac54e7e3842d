"""The frames in docs/realtime-protocol.md are the frames realtime/protocol.py has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openvisit.realtime import protocol
from openvisit.realtime.connection import ACCEPTS, TRANSITIONS, State

DOC = Path(__file__).parents[2] / "docs" / "realtime-protocol.md"


def _table_types(heading: str) -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        cell = line.split("|")[1].strip() if line.startswith("|") else ""
        names |= set(re.findall(r"`([a-zA-Z.]+)`", cell))
    return names


def test_every_client_frame_of_the_document_is_a_model() -> None:
    assert _table_types("Client frames") | {"hello", "ping", "pong"} == protocol.CLIENT_TYPES


def test_every_server_event_of_the_document_is_a_model() -> None:
    server = {model.model_fields["type"].default for model in protocol.SERVER_FRAMES}
    assert _table_types("Server events") | {"welcome"} == server


def test_the_state_table_is_the_documents() -> None:
    assert ACCEPTS[State.LOBBY] == {"ping", "pong", "chat.send", "deviceCheck", "leave"}
    assert ACCEPTS[State.BOARD] == {
        "ping",
        "pong",
        "admit",
        "deny",
        "providerStatus",
        "lobby.reply",
    }
    assert State.CALL in TRANSITIONS[State.LOBBY]
    assert State.LOBBY not in TRANSITIONS[State.CALL]


@pytest.mark.parametrize(
    "frame",
    [
        protocol.Welcome(
            connection_id="c", heartbeat_seconds=20, you={}, rtc_configuration={}, snapshot={}
        ),
        protocol.SignalFrame(from_="p", description={"type": "offer", "sdp": "x"}),
        protocol.LobbyFrame(position=1, estimated_wait_seconds=3, provider={}),
        protocol.Ack(id="a", chat_id=4),
    ],
)
def test_server_frames_survive_a_json_round_trip(frame: protocol.ServerFrame) -> None:
    assert type(frame).model_validate_json(protocol.encode(frame)) == frame


def test_a_frame_too_large_is_refused() -> None:
    with pytest.raises(protocol.ProtocolError, match="at most"):
        protocol.decode('{"type": "ping", "t": 1}' + " " * protocol.MAX_FRAME_CHARACTERS)
