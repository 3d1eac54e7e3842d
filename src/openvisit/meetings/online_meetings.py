"""A staff user's online meetings: create, createOrGet, get, list, update, delete.

One transaction per call; every change writes an audit row. A meeting is reached only
through its organizer (`organizer_user_id`): the staff user the request acts for
(auth/acting_user.py). A meeting that belongs to a booking appointment is the
appointment's room: its times follow the appointment (meetings/appointment_meetings.py),
so moving or deleting it here is refused (409) and done through the appointment.

Graph's defaults: without startDateTime the meeting starts now, without endDateTime it
lasts an hour. createOrGet finds the organizer's meeting with that externalId or makes
it; two concurrent calls make one (the unique constraint decides, the loser reads it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.clock import Clock
from openvisit.errors import Conflict, InvalidInput, NotFound
from openvisit.listing import ListQuery, Page
from openvisit.meetings.views import CANCELLED, SCHEDULED, MeetingView, snapshot
from openvisit.store.db import Database
from openvisit.store.listing import fetch_page
from openvisit.store.models import OnlineMeeting

DEFAULT_LENGTH = timedelta(hours=1)
# Graph properties kept whole in `properties`, with what a meeting has when none is sent.
DEFAULT_PROPERTIES: Mapping[str, Any] = {
    "allowedPresenters": "everyone",
    "allowMeetingChat": "enabled",
    "isEntryExitAnnounced": True,
    # Everyone but the organizer waits in the lobby: the waiting room of a visit.
    "lobbyBypassSettings": {"scope": "organizer", "isDialInBypassEnabled": False},
    "attendees": [],
}
MEETING_COLUMNS = {
    "id": OnlineMeeting.id,
    "subject": OnlineMeeting.subject,
    "startDateTime": OnlineMeeting.start_date_time,
    "endDateTime": OnlineMeeting.end_date_time,
    "creationDateTime": OnlineMeeting.created_date_time,
    "externalId": OnlineMeeting.external_id,
}


@dataclass(frozen=True)
class MeetingChanges:
    """What a create or PATCH sent: subject and times (when in `sent`), other properties."""

    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    sent: frozenset[str] = frozenset()  # of "subject", "start", "end"


def create_meeting(
    db: Database,
    clock: Clock,
    organizer_id: str,
    changes: MeetingChanges,
    *,
    actor: str,
    external_id: str | None = None,
) -> MeetingView:
    """A new meeting organised by `organizer_id`; 409 if the externalId is taken."""
    try:
        with db.write() as session:
            return snapshot(
                MeetingView,
                _insert(session, clock.now(), organizer_id, changes, actor, external_id),
            )
    except IntegrityError as error:
        raise Conflict("externalIdTaken", external_id=external_id) from error


def create_or_get(
    db: Database,
    clock: Clock,
    organizer_id: str,
    external_id: str,
    changes: MeetingChanges,
    *,
    actor: str,
) -> tuple[MeetingView, bool]:
    """(the organizer's meeting with `external_id`, whether this call made it)."""
    found = _by_external_id(db, organizer_id, external_id)
    if found is not None:
        return found, False
    try:
        return create_meeting(
            db, clock, organizer_id, changes, actor=actor, external_id=external_id
        ), True
    except Conflict:
        # A concurrent createOrGet made it between the read and the insert.
        raced = _by_external_id(db, organizer_id, external_id)
        if raced is None:  # pragma: no cover - the constraint fired, so the row exists
            raise
        return raced, False


def get_meeting_for(db: Database, user_id: str, meeting_id: str) -> MeetingView:
    """The meeting if `user_id` organises it; 404 otherwise (another's looks absent)."""
    with db.read() as session:
        return snapshot(MeetingView, owned(session, user_id, meeting_id))


def list_meetings(
    db: Database, user_id: str, query: ListQuery, *, page_size: int
) -> Page[MeetingView]:
    """The user's meetings, by start then id ($filter on the MEETING_COLUMNS)."""
    with db.read() as session:
        statement = select(OnlineMeeting).where(OnlineMeeting.organizer_user_id == user_id)
        page = fetch_page(
            session,
            statement,
            query,
            MEETING_COLUMNS,
            default_order=[OnlineMeeting.start_date_time, OnlineMeeting.id],
            page_size=page_size,
        )
        return Page(
            items=tuple(snapshot(MeetingView, row) for row in page.items),
            total=page.total,
            next_skip=page.next_skip,
        )


def update_meeting(
    db: Database,
    clock: Clock,
    user_id: str,
    meeting_id: str,
    changes: MeetingChanges,
    *,
    actor: str,
) -> MeetingView:
    """PATCH: the sent properties replace the stored ones; times of an appointment's
    meeting are the appointment's (409)."""
    now = clock.now()
    with db.write() as session:
        meeting = owned(session, user_id, meeting_id)
        check_open(meeting)
        if meeting.appointment_id is not None and changes.sent & {"start", "end"}:
            raise Conflict("meetingOfAppointment", meeting=meeting.id, what="move it")
        start = changes.start if "start" in changes.sent else meeting.start_date_time
        end = changes.end if "end" in changes.sent else meeting.end_date_time
        start, end = _times(start or now, end, "start" in changes.sent)
        meeting.start_date_time, meeting.end_date_time = start, end
        if "subject" in changes.sent:
            meeting.subject = changes.subject
        meeting.properties = {**meeting.properties, **changes.properties}
        changed = sorted(changes.sent | set(changes.properties))
        audit.record(
            session,
            Action.MEETING_UPDATED,
            actor=actor,
            subject=meeting.id,
            at=now,
            data={"changed": changed},
        )
        session.flush()
        return snapshot(MeetingView, meeting)


def delete_meeting(
    db: Database, clock: Clock, user_id: str, meeting_id: str, *, actor: str
) -> None:
    """Delete the meeting with its participants, attendance and chat."""
    with db.write() as session:
        meeting = owned(session, user_id, meeting_id)
        if meeting.appointment_id is not None:
            raise Conflict("meetingOfAppointment", meeting=meeting.id, what="delete it")
        session.delete(meeting)
        audit.record(
            session,
            Action.MEETING_DELETED,
            actor=actor,
            subject=meeting_id,
            at=clock.now(),
            data={"externalId": meeting.external_id},
        )


def owned(session: Session, user_id: str, meeting_id: str) -> OnlineMeeting:
    """The meeting row if `user_id` organises it, else NotFound."""
    meeting = None if "\x00" in meeting_id else session.get(OnlineMeeting, meeting_id)
    if meeting is None or meeting.organizer_user_id != user_id:
        raise NotFound("meetingNotFound", meeting=meeting_id)
    return meeting


def check_open(meeting: OnlineMeeting | MeetingView) -> None:
    if meeting.status == CANCELLED:
        raise Conflict("meetingCancelled", meeting=meeting.id)


def _insert(
    session: Session,
    now: datetime,
    organizer_id: str,
    changes: MeetingChanges,
    actor: str,
    external_id: str | None,
) -> OnlineMeeting:
    start, end = _times(changes.start or now, changes.end, True)
    meeting = OnlineMeeting(
        id=new_meeting_id(),
        organizer_user_id=organizer_id,
        business_id=None,
        appointment_id=None,
        external_id=external_id,
        subject=changes.subject,
        start_date_time=start,
        end_date_time=end,
        created_date_time=now,
        properties={**DEFAULT_PROPERTIES, **changes.properties},
        virtual_appointment=None,
        link_version=0,
        status=SCHEDULED,
        provider_state="ready",
    )
    session.add(meeting)
    session.flush()  # the externalId constraint answers here, inside the transaction
    audit.record(
        session,
        Action.MEETING_CREATED,
        actor=actor,
        subject=meeting.id,
        at=now,
        data={"organizer": organizer_id, "externalId": external_id},
    )
    return meeting


def _times(start: datetime, end: datetime | None, start_sent: bool) -> tuple[datetime, datetime]:
    """The meeting's times; an end left out is an hour after the start (Graph's rule)."""
    end = end if end is not None else start + DEFAULT_LENGTH
    if end <= start:
        raise InvalidInput(
            "endBeforeStart",
            target="endDateTime",
            name="endDateTime",
            start="startDateTime" if start_sent else "the meeting's start",
        )
    return start, end


def _by_external_id(db: Database, organizer_id: str, external_id: str) -> MeetingView | None:
    with db.read() as session:
        row = session.scalar(
            select(OnlineMeeting).where(
                OnlineMeeting.organizer_user_id == organizer_id,
                OnlineMeeting.external_id == external_id,
            )
        )
        return snapshot(MeetingView, row) if row is not None else None


def new_meeting_id() -> str:
    # URL-safe and free of '/', so it fits a join token's subject (join_links.py).
    return uuid.uuid4().hex
