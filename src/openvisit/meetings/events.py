"""The events a visit sends over the bus: small typed JSON, published after commit.

An event says what changed ("participant p joined meeting m"), not the whole new state:
every receiving process reads what it shows from the database, so an event lost on the
bus costs a stale screen until the next one or the resync, never a wrong database.
Two carry their data because the database does not keep it: `signal` (SDP and ICE
candidates, relayed unchanged) and `replaced` (which connection is the newest). `chat`
carries the stored message so a hundred receivers do not read it a hundred times.

Channels: `meeting:<meeting id>` for everything about one meeting, and
`staff:<staff member id>` for a provider's queue and day board.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParticipantChanged(_Event):
    """Somebody joined or left the call or the lobby, or changed what they send."""

    kind: Literal["participant"] = "participant"
    participant_id: str
    event: Literal["joined", "left", "updated"]


class Admitted(_Event):
    kind: Literal["admitted"] = "admitted"
    participant_id: str


class Denied(_Event):
    kind: Literal["denied"] = "denied"
    participant_id: str
    message: str | None = None


class Replaced(_Event):
    """A participant opened a new connection: every older one closes (4409)."""

    kind: Literal["replaced"] = "replaced"
    participant_id: str
    connection_id: str


class Signal(_Event):
    kind: Literal["signal"] = "signal"
    from_participant_id: str
    to_participant_id: str
    description: dict[str, Any] | None = None
    candidate: dict[str, Any] | None = None


class Chat(_Event):
    kind: Literal["chat"] = "chat"
    message: dict[str, Any]  # as the protocol's chat frame carries it
    audience: Literal["call", "lobby"]
    lobby_participant_id: str | None = None


class Ended(_Event):
    kind: Literal["ended"] = "ended"


class QueueChanged(_Event):
    """Somebody's place, the provider's state or the day changed: recompute and send."""

    kind: Literal["queue"] = "queue"


Event = Annotated[
    ParticipantChanged | Admitted | Denied | Replaced | Signal | Chat | Ended | QueueChanged,
    Field(discriminator="kind"),
]
_EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def meeting_channel(meeting_id: str) -> str:
    return f"meeting:{meeting_id}"


def staff_channel(staff_member_id: str) -> str:
    return f"staff:{staff_member_id}"


def encode(event: Event) -> str:
    return event.model_dump_json()


def decode(payload: str) -> Event:
    """The event in `payload`; pydantic.ValidationError when it is not one."""
    return _EVENT.validate_json(payload)
