"""The frames of the real-time protocol, version 1 (docs/realtime-protocol.md).

Every frame is one JSON object with a `type`. Client frames are parsed strictly
(`extra="forbid"`, a `type` tag, bounded strings): anything else is a protocol error the
connection answers with an `error` frame and close 4400. Server frames are built from
these models too, so what the server sends is what the document says.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from openvisit.meetings.guest_names import check_guest_name

VERSION = 1
MAX_FRAME_CHARACTERS = 64 * 1024
Id = Annotated[str, Field(min_length=1, max_length=128)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=255)]
# Trimmed on the way in; the raw bound only keeps a huge frame from being scanned.
GuestName = Annotated[str, Field(max_length=1000), AfterValidator(check_guest_name)]


class _Frame(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


# --- client frames ---------------------------------------------------------------------


class Resume(_Frame):
    connection_id: Id
    last_seq: int | None = None
    last_chat_id: int | None = None


class Hello(_Frame):
    type: Literal["hello"]
    id: Id | None = None
    v: int
    join: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    meeting: Id | None = None
    board: bool | None = None
    resume: Resume | None = None
    name: GuestName | None = None  # a guest's own name (docs/realtime-protocol.md)


class Ping(_Frame):
    type: Literal["ping"]
    id: Id | None = None
    t: float | None = None


class Pong(_Frame):
    type: Literal["pong"]
    id: Id | None = None
    t: float | None = None


class ChatSend(_Frame):
    type: Literal["chat.send"]
    id: Id | None = None
    text: Text
    client_message_id: Id


class Description(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: Annotated[str, Field(max_length=60_000)] = ""


class Candidate(BaseModel):
    # RTCIceCandidateInit as browsers serialize it; null fields are end-of-candidates.
    model_config = ConfigDict(extra="forbid", frozen=True)
    candidate: Annotated[str, Field(max_length=2048)] = ""
    sdpMid: str | None = None  # the browser's JSON names
    sdpMLineIndex: int | None = None
    usernameFragment: str | None = None


class SignalSend(_Frame):
    type: Literal["signal"]
    id: Id | None = None
    to: Id
    description: Description | None = None
    candidate: Candidate | None = None


class Media(_Frame):
    type: Literal["media"]
    id: Id | None = None
    audio: bool
    video: bool
    screen: bool


class Network(_Frame):
    reachable: bool
    relay: bool | None = None
    round_trip_ms: float | None = None
    downlink_kbps: float | None = None


class Browser(_Frame):
    supported: bool
    name: Annotated[str, Field(max_length=100)] | None = None


DeviceState = Literal["ok", "blocked", "missing", "error"]


class DeviceCheckResult(_Frame):
    browser: Browser
    camera: DeviceState
    microphone: DeviceState
    speaker: Literal["ok", "untested"]
    network: Network
    checked_at: Annotated[str, Field(max_length=40)]


class DeviceCheck(_Frame):
    type: Literal["deviceCheck"]
    id: Id | None = None
    result: DeviceCheckResult


class Leave(_Frame):
    type: Literal["leave"]
    id: Id | None = None


class Admit(_Frame):
    type: Literal["admit"]
    id: Id | None = None
    participant_id: Id


class Deny(_Frame):
    type: Literal["deny"]
    id: Id | None = None
    participant_id: Id
    message: Annotated[str, Field(max_length=500)] | None = None


class ProviderStatus(_Frame):
    type: Literal["providerStatus"]
    id: Id | None = None
    state: Literal["ready", "late", "away"]
    late_minutes: Annotated[int, Field(ge=1, le=600)] | None = None
    message: Annotated[str, Field(max_length=500)] | None = None


class LobbyReply(_Frame):
    type: Literal["lobby.reply"]
    id: Id | None = None
    participant_id: Id
    text: Text
    client_message_id: Id


class Invite(_Frame):
    type: Literal["invite"]
    id: Id | None = None
    display_name: Name


class End(_Frame):
    type: Literal["end"]
    id: Id | None = None


ClientFrame = Annotated[
    Hello
    | Ping
    | Pong
    | ChatSend
    | SignalSend
    | Media
    | DeviceCheck
    | Leave
    | Admit
    | Deny
    | ProviderStatus
    | LobbyReply
    | Invite
    | End,
    Field(discriminator="type"),
]
_CLIENT: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
CLIENT_TYPES = frozenset(
    model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for model in (
        Hello, Ping, Pong, ChatSend, SignalSend, Media, DeviceCheck, Leave, Admit, Deny,
        ProviderStatus, LobbyReply, Invite, End,
    )
)  # fmt: skip


class ProtocolError(Exception):
    """A frame the protocol does not allow; `message` names the problem for the client."""

    def __init__(self, message: str, frame_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.frame_id = frame_id


def decode(text: str) -> ClientFrame:
    """The client frame in `text`, or ProtocolError saying what is wrong with it."""
    if len(text) > MAX_FRAME_CHARACTERS:
        raise ProtocolError(f"A frame is at most {MAX_FRAME_CHARACTERS} characters.")
    try:
        return _CLIENT.validate_json(text)
    except ValidationError as error:
        raise ProtocolError(_explain(error), _frame_id(text)) from None


def _explain(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "json_invalid":
        return "The frame is not valid JSON."
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return "Unknown or missing frame type."
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _frame_id(text: str) -> str | None:
    try:
        value = TypeAdapter(dict[str, Any]).validate_json(text).get("id")
    except ValidationError:
        return None
    return value if isinstance(value, str) and len(value) <= 128 else None


# --- server frames ---------------------------------------------------------------------


class ServerFrame(_Frame):
    type: str
    seq: int | None = None


class Welcome(ServerFrame):
    type: Literal["welcome"] = "welcome"
    v: int = VERSION
    connection_id: str
    heartbeat_seconds: float
    you: dict[str, Any]
    rtc_configuration: dict[str, Any]
    snapshot: dict[str, Any]


class Snapshot(ServerFrame):
    type: Literal["snapshot"] = "snapshot"
    snapshot: dict[str, Any]


class LobbyFrame(ServerFrame):
    type: Literal["lobby"] = "lobby"
    position: int
    estimated_wait_seconds: int
    provider: dict[str, Any]


class AdmittedFrame(ServerFrame):
    type: Literal["admitted"] = "admitted"


class DeniedFrame(ServerFrame):
    type: Literal["denied"] = "denied"
    message: str | None = None


class ParticipantFrame(ServerFrame):
    type: Literal["participant"] = "participant"
    event: Literal["joined", "left", "updated"]
    participant: dict[str, Any]


class WaitingFrame(ServerFrame):
    type: Literal["waiting"] = "waiting"
    waiting: list[dict[str, Any]]


class SignalFrame(ServerFrame):
    type: Literal["signal"] = "signal"
    from_: str = Field(alias="from")
    description: dict[str, Any] | None = None
    candidate: dict[str, Any] | None = None


class ChatFrame(ServerFrame):
    type: Literal["chat"] = "chat"
    message: dict[str, Any]


class Ack(ServerFrame):
    type: Literal["ack"] = "ack"
    id: str | None = None
    chat_id: int | None = None
    join_url: str | None = None


class EndedFrame(ServerFrame):
    type: Literal["ended"] = "ended"


class BoardFrame(ServerFrame):
    type: Literal["board"] = "board"
    board: dict[str, Any]


class ErrorFrame(ServerFrame):
    type: Literal["error"] = "error"
    code: str
    message: str
    id: str | None = None


class ServerPing(ServerFrame):
    type: Literal["ping"] = "ping"
    t: float


class ServerPong(ServerFrame):
    type: Literal["pong"] = "pong"
    t: float | None = None


SERVER_FRAMES: tuple[type[ServerFrame], ...] = (
    Welcome, Snapshot, LobbyFrame, AdmittedFrame, DeniedFrame, ParticipantFrame, WaitingFrame,
    SignalFrame, ChatFrame, Ack, EndedFrame, BoardFrame, ErrorFrame, ServerPing, ServerPong,
)  # fmt: skip
UNSEQUENCED = frozenset({"ping", "pong", "ack", "error"})


def encode(frame: ServerFrame) -> str:
    """The frame as JSON text; fields left unset (None) are left out."""
    return frame.model_dump_json(by_alias=True, exclude_none=True)
