"""Device-check results: what a participant's browser found before the visit.

The device-check page (and the first stage of the join page) measures camera,
microphone, speaker and network, and sends the result here, days ahead or a minute
before. It is kept on the participant's row (created, state "invited", when this is the
first the meeting hears of them), so the provider sees "camera blocked" beside the
appointment before anyone connects. The shape is docs/realtime-protocol.md's
"Device-check result"; anything else, or anything larger than `MAX_RESULT_BYTES`, is
refused whole.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openvisit.clock import Clock
from openvisit.meetings.access import Entrant
from openvisit.store.db import Database
from openvisit.store.models import MeetingParticipant

# A real result is about 300 bytes; the bound leaves room for long browser names.
MAX_RESULT_BYTES = 4096
DeviceState = Literal["ok", "blocked", "missing", "error"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class BrowserCheck(_Strict):
    supported: bool
    name: str = Field(max_length=120)


class NetworkCheck(_Strict):
    reachable: bool
    relay: bool
    roundTripMs: int | None = Field(default=None, ge=0, le=600_000)
    downlinkKbps: int | None = Field(default=None, ge=0, le=100_000_000)


class DeviceCheckResult(_Strict):
    browser: BrowserCheck
    camera: DeviceState
    microphone: DeviceState
    speaker: Literal["ok", "untested"]
    network: NetworkCheck
    # The browser's clock says when; the server keeps its own time beside it.
    checkedAt: datetime


class BadDeviceCheck(ValueError):
    """The result is not one: too large, not JSON, or not the documented shape."""


def parse_device_check(body: bytes) -> DeviceCheckResult:
    """The result `body` (JSON) holds, or BadDeviceCheck saying what is wrong."""
    if len(body) > MAX_RESULT_BYTES:
        raise BadDeviceCheck(f"A device-check result is at most {MAX_RESULT_BYTES} bytes.")
    try:
        result = DeviceCheckResult.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadDeviceCheck(f"Invalid device-check result at {where}: {first['msg']}.") from None
    if result.checkedAt.tzinfo is None:
        raise BadDeviceCheck("checkedAt needs a time zone offset (e.g. Z).")
    return result


def record_device_check(
    db: Database, clock: Clock, entrant: Entrant, result: DeviceCheckResult
) -> dict[str, Any]:
    """Keep `result` as `entrant`'s latest device check; returns it as stored."""
    stored = result.model_dump(mode="json")
    now = clock.now()
    try:
        _store(db, entrant, stored, now)
    except IntegrityError:
        # Two first checks at once (two tabs): the other made the row; this one updates it.
        _store(db, entrant, stored, now)
    return stored


def _store(db: Database, entrant: Entrant, stored: dict[str, Any], now: datetime) -> None:
    with db.write() as session:
        row = _participant(session, entrant)
        row.device_check = stored
        row.device_checked_at = now


def _participant(session: Session, entrant: Entrant) -> MeetingParticipant:
    row = session.scalars(
        select(MeetingParticipant).where(
            MeetingParticipant.meeting_id == entrant.meeting.id,
            MeetingParticipant.participant_key == entrant.participant_key,
        )
    ).one_or_none()
    if row is None:
        row = MeetingParticipant(
            id=str(uuid.uuid4()),
            meeting_id=entrant.meeting.id,
            participant_key=entrant.participant_key,
            role=entrant.role,
            display_name=entrant.display_name,
            email_address=entrant.email_address,
            staff_user_id=entrant.staff_user_id,
            state="invited",
        )
        session.add(row)
    return row
