"""The beta virtualAppointment of an online meeting: a business that keeps its own
scheduling system attaches its appointment (id, URL, clients, settings) to a meeting.

Kept whole in `online_meetings.virtual_appointment`, in Graph's camelCase shape. Its
`appointmentClients` are the meeting's consumers: the first one is who the consumer's
join link stands for (shown as the meeting's guest attendee), and their phone numbers
are where the SMS actions may text. PUT writes the whole resource (201 when new), PATCH
merges the sent properties and honours `If-Match` against the resource's ETag (412),
DELETE removes it; each writes an audit row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.clock import Clock
from openvisit.errors import NotFound, PreconditionFailed
from openvisit.meetings.online_meetings import check_open, owned
from openvisit.meetings.views import JsonDocument, MeetingView, snapshot
from openvisit.store.db import Database


def etag(document: Mapping[str, Any]) -> str:
    """A weak ETag of the stored resource: it changes whenever any property does."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f'W/"{hashlib.sha256(canonical.encode()).hexdigest()[:20]}"'


def get_virtual_appointment(
    db: Database, user_id: str, meeting_id: str
) -> tuple[MeetingView, JsonDocument]:
    with db.read() as session:
        meeting = snapshot(MeetingView, owned(session, user_id, meeting_id))
    if meeting.virtual_appointment is None:
        raise NotFound("virtualAppointmentNotFound", meeting=meeting_id)
    return meeting, meeting.virtual_appointment


def put_virtual_appointment(
    db: Database,
    clock: Clock,
    user_id: str,
    meeting_id: str,
    document: Mapping[str, Any],
    *,
    actor: str,
) -> tuple[MeetingView, bool]:
    """Create or replace the resource; (the meeting, whether it was new)."""
    with db.write() as session:
        meeting = owned(session, user_id, meeting_id)
        check_open(meeting)
        created = meeting.virtual_appointment is None
        meeting.virtual_appointment = dict(document)
        _audit(session, Action.VIRTUAL_APPOINTMENT_SET, actor, meeting.id, clock, document)
        session.flush()
        return snapshot(MeetingView, meeting), created


def update_virtual_appointment(
    db: Database,
    clock: Clock,
    user_id: str,
    meeting_id: str,
    changes: Mapping[str, Any],
    *,
    if_match: str | None,
    actor: str,
) -> MeetingView:
    """Merge the sent properties; refused (412) if `if_match` names an older version."""
    with db.write() as session:
        meeting = owned(session, user_id, meeting_id)
        check_open(meeting)
        current = meeting.virtual_appointment
        if current is None:
            raise NotFound("virtualAppointmentNotFound", meeting=meeting_id)
        if if_match is not None and if_match.strip() not in ("*", etag(current)):
            raise PreconditionFailed("etagMismatch")
        merged = {**current, **changes}
        meeting.virtual_appointment = merged
        _audit(session, Action.VIRTUAL_APPOINTMENT_SET, actor, meeting.id, clock, merged)
        session.flush()
        return snapshot(MeetingView, meeting)


def delete_virtual_appointment(
    db: Database, clock: Clock, user_id: str, meeting_id: str, *, actor: str
) -> None:
    with db.write() as session:
        meeting = owned(session, user_id, meeting_id)
        if meeting.virtual_appointment is None:
            raise NotFound("virtualAppointmentNotFound", meeting=meeting_id)
        meeting.virtual_appointment = None
        audit.record(
            session,
            Action.VIRTUAL_APPOINTMENT_DELETED,
            actor=actor,
            subject=meeting.id,
            at=clock.now(),
        )


def _audit(
    session: Any, action: Action, actor: str, meeting_id: str, clock: Clock, doc: Mapping[str, Any]
) -> None:
    audit.record(
        session,
        action,
        actor=actor,
        subject=meeting_id,
        at=clock.now(),
        data={
            "externalAppointmentId": doc.get("externalAppointmentId"),
            "clients": len(doc.get("appointmentClients") or []),
        },
    )
