"""What a visit's page shows, read whole from the database (the protocol's `snapshot`).

A page never needs history: a welcome, a resync after the bus reconnected, or an
admission each send a snapshot built here, and the smaller frames (`participant`,
`waiting`, `lobby`) carry pieces of the same shapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit.clock import Clock
from openvisit.meetings.access import MeetingSummary, load_meeting
from openvisit.meetings.visits import DEFAULT_MEDIA, Presence, chat_message
from openvisit.store.db import Database
from openvisit.store.models import MeetingAttendance, MeetingMessage, MeetingParticipant

CHAT_IN_SNAPSHOT = 200


def snapshot(
    db: Database, clock: Clock, presence: Presence, *, last_chat_id: int | None = None
) -> dict[str, Any]:
    """The whole state `presence`'s page shows now."""
    summary = load_meeting(db, presence.meeting_id)
    if summary is None:  # pragma: no cover - meetings are not deleted under a visit
        raise LookupError(presence.meeting_id)
    with db.read() as session:
        me = session.get(MeetingParticipant, presence.participant_id)
        state = _state_of(summary, me, presence)
        result: dict[str, Any] = {
            "meeting": meeting_view(summary),
            "state": state,
            "participants": participants_in_call(session, presence.meeting_id)
            if state == "call"
            else [],
            "chat": _chat(session, presence, state, last_chat_id),
            "deviceCheck": me.device_check if me is not None else None,
        }
    if state == "lobby":
        # A waiter's numbers come from their whole queue's read, which the real-time hub
        # makes once for all of that queue's waiters and sends as a `lobby` frame.
        result["lobby"] = None
    if presence.is_staff and state == "call":
        result["lobby"] = {"waiting": waiting_list(db, clock, [presence.meeting_id])}
    return result


def _state_of(summary: MeetingSummary, me: MeetingParticipant | None, presence: Presence) -> str:
    if summary.status == "ended" or me is None or me.state == "left":
        return "ended"
    if me.state == "denied":
        return "denied"
    if me.state == "admitted":
        return "call"
    return "lobby" if presence.place == "lobby" else presence.place


def meeting_view(summary: MeetingSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "subject": summary.subject,
        "start": iso(summary.start),
        "end": iso(summary.end),
        "status": summary.status,
        "business": {
            "name": summary.business_name,
            "brandColor": summary.booking_page_settings.get("bookingPageColorCode"),
        },
        "timeZone": summary.customer_time_zone or summary.business_time_zone,
    }


def participant_view(row: MeetingParticipant, place: str) -> dict[str, Any]:
    return {
        "participantId": row.id,
        "role": row.role,
        "displayName": row.display_name,
        "state": place,
        "media": dict(row.media or DEFAULT_MEDIA),
    }


def participant(db: Database, participant_id: str) -> dict[str, Any] | None:
    """One participant as the `participant` frame carries them, placed by their presence."""
    with db.read() as session:
        row = session.get(MeetingParticipant, participant_id)
        if row is None:
            return None
        kind = session.scalar(
            select(MeetingAttendance.kind).where(
                MeetingAttendance.participant_id == participant_id,
                MeetingAttendance.ended_at.is_(None),
            )
        )
        return participant_view(row, kind or "left")


def participants_in_call(session: Session, meeting_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(MeetingParticipant)
        .join(MeetingAttendance, MeetingAttendance.participant_id == MeetingParticipant.id)
        .where(
            MeetingAttendance.meeting_id == meeting_id,
            MeetingAttendance.kind == "call",
            MeetingAttendance.ended_at.is_(None),
        )
        .order_by(MeetingAttendance.started_at, MeetingParticipant.id)
    ).all()
    return [participant_view(row, "call") for row in dict.fromkeys(rows)]


def waiting_list(db: Database, clock: Clock, meeting_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Who waits now in these meetings' lobbies, longest first (the `waiting` frame)."""
    now = clock.now()
    with db.read() as session:
        rows = session.scalars(
            select(MeetingParticipant)
            .join(MeetingAttendance, MeetingAttendance.participant_id == MeetingParticipant.id)
            .where(
                MeetingParticipant.meeting_id.in_(list(meeting_ids)),
                MeetingParticipant.state == "lobby",
                MeetingAttendance.kind == "lobby",
                MeetingAttendance.ended_at.is_(None),
            )
            .order_by(MeetingParticipant.lobby_entered_at, MeetingParticipant.id)
        ).all()
    return [_waiter(row, now) for row in dict.fromkeys(rows) if row.role != "provider"]


def _waiter(row: MeetingParticipant, now: datetime) -> dict[str, Any]:
    since = row.lobby_entered_at or now
    return {
        "participantId": row.id,
        "meetingId": row.meeting_id,
        "displayName": row.display_name,
        "role": row.role,
        "waitedSeconds": max(0, round((now - since).total_seconds())),
        "deviceCheck": row.device_check,
        "since": iso(since),
    }


def _chat(
    session: Session, presence: Presence, state: str, last_chat_id: int | None
) -> list[dict[str, Any]]:
    # Staff see the call's chat and every lobby conversation of the meeting.
    query = select(MeetingMessage).where(MeetingMessage.meeting_id == presence.meeting_id)
    if presence.is_staff:
        query = query.where(MeetingMessage.audience.in_(("call", "lobby")))
    elif state == "lobby":
        query = query.where(
            MeetingMessage.audience == "lobby",
            MeetingMessage.lobby_participant_id == presence.participant_id,
        )
    elif state == "call":
        query = query.where(MeetingMessage.audience == "call")
    else:
        return []
    if last_chat_id is not None:
        query = query.where(MeetingMessage.id > last_chat_id)
    rows = session.scalars(query.order_by(MeetingMessage.id.desc()).limit(CHAT_IN_SNAPSHOT)).all()
    return [chat_message(row) for row in reversed(rows)]


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")
