"""The visit: entering, the lobby, admission, chat, leaving and ending a meeting's call.

Where a participant stands is kept in the database, never only in a connection:
`MeetingParticipant.state` is their admission (invited, lobby, admitted, denied, left)
and an open `MeetingAttendance` row is their presence (connected now, in the lobby or in
the call), named by the connection that holds it. A reload, a dropped network or another
server process therefore finds them where they were: the same lobby place
(`lobby_entered_at` is kept), or straight back into the call once admitted.

Every function here owns its transaction and publishes its events (meetings/events.py)
only after it commits. The realtime transport calls them from worker threads.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.auth.users import UserView
from openvisit.clock import Clock
from openvisit.join_links import join_token, join_url
from openvisit.meetings import events
from openvisit.meetings.access import Entrant, JoinRefused, check_staff_access
from openvisit.meetings.guest_names import check_guest_name
from openvisit.meetings.publishing import Publish, publish_on_commit
from openvisit.meetings.server_leases import check_lease
from openvisit.store.db import Database
from openvisit.store.models import (
    MeetingAttendance,
    MeetingMessage,
    MeetingParticipant,
    MeetingSession,
    OnlineMeeting,
)

Place = Literal["lobby", "call", "denied", "ended"]
ProviderState = Literal["ready", "late", "away"]
CHAT_MAX_LENGTH = 2000
DEFAULT_MEDIA = {"audio": True, "video": True, "screen": False}


class VisitRefused(Exception):
    """A request the visit does not allow now; `code` is stable, `message` plain words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Presence:
    """One connection's participant, as `enter` placed them."""

    meeting_id: str
    participant_id: str
    role: str
    display_name: str
    connection_id: str
    place: Place
    staff_member_ids: tuple[str, ...]  # the appointment's providers: whose queue this is
    staff_user_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role == "provider"


@dataclass(frozen=True, slots=True)
class ChatSent:
    chat_id: int
    message: dict[str, Any]
    duplicate: bool  # a resend: stored before, delivered before


def enter(
    db: Database,
    clock: Clock,
    publish: Publish,
    entrant: Entrant,
    connection_id: str,
    guest_name: str | None = None,
    *,
    server_instance_id: str,
) -> Presence:
    """Place `entrant` (let in by meetings/access.py) for a new connection.

    Staff go into the call (a staff member entering an ended meeting starts it again);
    an admitted consumer or guest goes back into the call; anyone else waits in the
    lobby, keeping the place they had. Any stretch an earlier connection left open is
    closed, and a new one opened for `connection_id`, held by the server process of
    `server_instance_id` (LeaseLost when its lease has expired: server_leases.py). A
    guest's `guest_name` (the name they typed, checked by guest_names.py) becomes their
    name in the same transaction, so the events it publishes already carry it; anyone
    else's is ignored.
    """
    now = clock.now()
    summary = entrant.meeting
    with db.write() as session:
        meeting = session.get(OnlineMeeting, summary.id)
        if meeting is None or meeting.status == "cancelled":
            raise JoinRefused("cancelled" if meeting else "invalid")
        participant = _participant(session, entrant)
        if guest_name is not None and participant.role == "guest":
            participant.display_name = check_guest_name(guest_name)
        place = _place(meeting, participant, now)
        if place in ("lobby", "call"):
            check_lease(session, server_instance_id, now)
            _close_stretches(session, participant.id, now)
            _open_stretch(
                session,
                Holder(meeting.id, participant.id, connection_id, server_instance_id),
                place,
                now,
            )
        presence = Presence(
            meeting.id,
            participant.id,
            participant.role,
            participant.display_name,
            connection_id,
            place,
            summary.staff_member_ids,
            participant.staff_user_id,
        )
        publish_on_commit(
            session,
            publish,
            meeting.id,
            events.Replaced(participant_id=participant.id, connection_id=connection_id),
            events.ParticipantChanged(participant_id=participant.id, event="joined"),
            queue_of=summary.staff_member_ids,
        )
    return presence


def _place(meeting: OnlineMeeting, participant: MeetingParticipant, now: datetime) -> Place:
    if participant.role == "provider":
        if meeting.status == "ended":
            meeting.status = "scheduled"
        participant.state = "admitted"
        participant.admitted_at = participant.admitted_at or now
        return "call"
    if meeting.status == "ended":
        return "ended"
    if participant.state == "denied":
        return "denied"
    if participant.state == "admitted":
        return "call"
    if participant.state != "lobby" or participant.lobby_entered_at is None:
        participant.lobby_entered_at = now
    participant.state = "lobby"
    return "lobby"


def _participant(session: Session, entrant: Entrant) -> MeetingParticipant:
    """The entrant's row in the meeting, made on first entry (or first device check)."""
    found = _find_participant(session, entrant.meeting.id, entrant.participant_key)
    if found is None:
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
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another device of theirs made it at the same moment
            found = _find_participant(session, entrant.meeting.id, entrant.participant_key)
            if found is None:  # pragma: no cover - the unique key said it exists
                raise
            return found
        return row
    if entrant.role != "guest":  # a guest keeps the name they typed
        found.display_name = entrant.display_name
    return found


def _find_participant(session: Session, meeting_id: str, key: str) -> MeetingParticipant | None:
    return session.scalars(
        select(MeetingParticipant).where(
            MeetingParticipant.meeting_id == meeting_id,
            MeetingParticipant.participant_key == key,
        )
    ).first()


def leave(db: Database, clock: Clock, publish: Publish, presence: Presence) -> None:
    """The connection is gone (left, dropped, replaced): close its stretch, if still open.

    Where they stand does not change: the lobby place is kept and an admitted
    participant comes back into the call.
    """
    now = clock.now()
    with db.write() as session:
        closed = session.execute(
            update(MeetingAttendance)
            .where(
                MeetingAttendance.participant_id == presence.participant_id,
                MeetingAttendance.connection_id == presence.connection_id,
                MeetingAttendance.ended_at.is_(None),
            )
            .values(ended_at=now)
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        # Nothing closed: a newer connection of theirs closed it, and they are still here.
        if closed:
            publish_on_commit(
                session,
                publish,
                presence.meeting_id,
                events.ParticipantChanged(participant_id=presence.participant_id, event="left"),
                queue_of=presence.staff_member_ids,
            )


def admit(
    db: Database, clock: Clock, publish: Publish, staff: UserView, participant_id: str
) -> None:
    """Staff let a waiting participant into the call."""
    entrant = _staff_over(db, staff, participant_id)
    now = clock.now()
    with db.write() as session:
        participant = _waiting(session, participant_id)
        participant.state = "admitted"
        participant.admitted_at = now
        for stretch in _open_stretches(session, participant.id):
            stretch.ended_at = now
            # The same connection, so the same server holds it.
            holder = Holder(
                participant.meeting_id,
                participant.id,
                stretch.connection_id,
                stretch.server_instance_id,
            )
            _open_stretch(session, holder, "call", now)
        _audit(session, Action.MEETING_PARTICIPANT_ADMITTED, staff, participant, now)
        publish_on_commit(
            session,
            publish,
            participant.meeting_id,
            events.Admitted(participant_id=participant.id),
            events.ParticipantChanged(participant_id=participant.id, event="joined"),
            queue_of=entrant.meeting.staff_member_ids,
        )


def deny(
    db: Database,
    clock: Clock,
    publish: Publish,
    staff: UserView,
    participant_id: str,
    message: str | None = None,
) -> None:
    """Staff send a waiting participant away; they cannot come back to this meeting."""
    entrant = _staff_over(db, staff, participant_id)
    now = clock.now()
    with db.write() as session:
        participant = _waiting(session, participant_id)
        participant.state = "denied"
        participant.denied_at = now
        _close_stretches(session, participant.id, now)
        _audit(session, Action.MEETING_PARTICIPANT_DENIED, staff, participant, now)
        publish_on_commit(
            session,
            publish,
            participant.meeting_id,
            events.Denied(participant_id=participant.id, message=message),
            queue_of=entrant.meeting.staff_member_ids,
        )


def end(db: Database, clock: Clock, publish: Publish, staff: UserView, meeting_id: str) -> None:
    """Staff end the visit for everyone: the call's session ends, every stretch closes,
    and whoever comes back waits to be admitted again."""
    entrant = check_staff_access(db, user=staff, meeting_id=meeting_id)
    now = clock.now()
    with db.write() as session:
        meeting = session.get(OnlineMeeting, meeting_id)
        if meeting is None or meeting.status == "ended":
            raise VisitRefused("alreadyEnded", "This visit has already ended.")
        meeting.status = "ended"
        session.execute(
            update(MeetingSession)
            .where(MeetingSession.meeting_id == meeting_id, MeetingSession.ended_at.is_(None))
            .values(ended_at=now)
        )
        session.execute(
            update(MeetingAttendance)
            .where(MeetingAttendance.meeting_id == meeting_id, MeetingAttendance.ended_at.is_(None))
            .values(ended_at=now)
        )
        session.execute(
            update(MeetingParticipant)
            .where(
                MeetingParticipant.meeting_id == meeting_id,
                MeetingParticipant.state.in_(("lobby", "admitted")),
            )
            .values(state="left")
        )
        audit.record(
            session,
            Action.MEETING_ENDED,
            actor=f"user:{staff.id}",
            subject=meeting_id,
            at=now,
        )
        publish_on_commit(
            session,
            publish,
            meeting_id,
            events.Ended(),
            queue_of=entrant.meeting.staff_member_ids,
        )


def set_provider_status(
    db: Database,
    clock: Clock,
    publish: Publish,
    staff: UserView,
    meeting_ids: Iterable[str],
    state: ProviderState,
    late_minutes: int | None = None,
    message: str | None = None,
) -> None:
    """What the waiting rooms of these meetings show of the provider ("running late")."""
    entrants = [check_staff_access(db, user=staff, meeting_id=m) for m in meeting_ids]
    del clock  # the status has no time of its own; kept for a uniform signature
    with db.write() as session:
        for entrant in entrants:
            session.execute(
                update(OnlineMeeting)
                .where(OnlineMeeting.id == entrant.meeting.id)
                .values(
                    provider_state=state,
                    provider_late_minutes=late_minutes if state == "late" else None,
                    provider_message=message,
                )
            )
            publish_on_commit(
                session, publish, entrant.meeting.id, queue_of=entrant.meeting.staff_member_ids
            )


def send_chat(
    db: Database,
    clock: Clock,
    publish: Publish,
    sender: Presence,
    text: str,
    client_message_id: str,
    *,
    to_participant_id: str | None = None,
) -> ChatSent:
    """Store and deliver a chat message; a resend with the same `client_message_id`
    stores nothing and answers with the first one.

    In the lobby it goes to staff only; `to_participant_id` is staff answering one
    waiting participant (lobby.reply). Anything else is the call's chat.
    """
    text = _check_text(text)
    now = clock.now()
    with db.write() as session:
        first = session.scalars(
            select(MeetingMessage).where(
                MeetingMessage.participant_id == sender.participant_id,
                MeetingMessage.client_message_id == client_message_id,
            )
        ).first()
        if first is not None:
            return ChatSent(first.id, chat_message(first), duplicate=True)
        me = session.get(MeetingParticipant, sender.participant_id)
        if me is None:  # pragma: no cover - the sender's own row
            raise VisitRefused("notInMeeting", "You are not in this visit.")
        audience, lobby_participant = _audience(session, me, to_participant_id)
        row = MeetingMessage(
            meeting_id=me.meeting_id,
            participant_id=me.id,
            lobby_participant_id=lobby_participant,
            sender_name=me.display_name,
            sender_role=me.role,
            audience=audience,
            text=text,
            client_message_id=client_message_id,
            created_date_time=now,
        )
        session.add(row)
        session.flush()
        message = chat_message(row)
        publish_on_commit(
            session,
            publish,
            me.meeting_id,
            events.Chat(message=message, audience=audience, lobby_participant_id=lobby_participant),
            boards=sender.staff_member_ids if audience == "lobby" else (),
        )
    return ChatSent(row.id, message, duplicate=False)


def reply_in_lobby(
    db: Database,
    clock: Clock,
    publish: Publish,
    staff: UserView,
    participant_id: str,
    text: str,
    client_message_id: str,
) -> ChatSent:
    """Staff answer one waiting participant, from the call page or the day board."""
    entrant = _staff_over(db, staff, participant_id)
    with db.write() as session:
        me = _participant(session, entrant)
        sender = Presence(
            entrant.meeting.id,
            me.id,
            me.role,
            me.display_name,
            "",
            "call",
            entrant.meeting.staff_member_ids,
            staff.id,
        )
    return send_chat(
        db, clock, publish, sender, text, client_message_id, to_participant_id=participant_id
    )


def invite_guest(
    db: Database,
    clock: Clock,
    secret_key: str,
    base_url: str,
    staff: UserView,
    meeting_id: str,
    display_name: str,
) -> str:
    """A join link for one more person (an interpreter, family), named by staff."""
    entrant = check_staff_access(db, user=staff, meeting_id=meeting_id)
    guest_id = uuid.uuid4().hex
    with db.write() as session:
        session.add(
            MeetingParticipant(
                id=str(uuid.uuid4()),
                meeting_id=meeting_id,
                participant_key=f"guest:{guest_id}",
                role="guest",
                display_name=display_name,
                state="invited",
            )
        )
        audit.record(
            session,
            Action.MEETING_GUEST_INVITED,
            actor=f"user:{staff.id}",
            subject=meeting_id,
            at=clock.now(),
            data={"displayName": display_name},
        )
    token = join_token(
        secret_key,
        meeting_id,
        role="guest",
        version=entrant.meeting.link_version,
        end=entrant.meeting.end,
        guest_id=guest_id,
    )
    return join_url(base_url, token)


def _audience(
    session: Session, me: MeetingParticipant, to_participant_id: str | None
) -> tuple[Literal["call", "lobby"], str | None]:
    if to_participant_id is not None:
        if me.role != "provider":
            raise VisitRefused("notAllowed", "Only staff answer the waiting room.")
        to = session.get(MeetingParticipant, to_participant_id)
        if to is None or to.meeting_id != me.meeting_id or to.role == "provider":
            raise VisitRefused("notFound", "Nobody of that id waits in this visit.")
        return "lobby", to.id
    if me.state == "lobby":
        return "lobby", me.id
    if me.state == "admitted":
        return "call", None
    raise VisitRefused("notInMeeting", "You are not in this visit.")


def _check_text(text: str) -> str:
    if not text.strip() or len(text) > CHAT_MAX_LENGTH:
        raise VisitRefused(
            "invalidText", f"A message has 1 to {CHAT_MAX_LENGTH} characters and some text."
        )
    return text


def chat_message(row: MeetingMessage) -> dict[str, Any]:
    """A stored message as the protocol's `chat` frame carries it."""
    message: dict[str, Any] = {
        "chatId": row.id,
        "from": row.participant_id,
        "displayName": row.sender_name,
        "role": row.sender_role,
        "text": row.text,
        "at": _iso(row.created_date_time),
        "audience": row.audience,
        "meetingId": row.meeting_id,
    }
    if row.audience == "lobby":
        message["lobbyParticipantId"] = row.lobby_participant_id
    return message


def set_media(db: Database, publish: Publish, presence: Presence, media: dict[str, bool]) -> None:
    """What the participant sends now (muted, camera off, sharing the screen)."""
    with db.write() as session:
        session.execute(
            update(MeetingParticipant)
            .where(MeetingParticipant.id == presence.participant_id)
            .values(media=media)
        )
        publish_on_commit(
            session,
            publish,
            presence.meeting_id,
            events.ParticipantChanged(participant_id=presence.participant_id, event="updated"),
        )


def record_device_check(
    db: Database, clock: Clock, publish: Publish, presence: Presence, result: dict[str, Any]
) -> None:
    """Keep the participant's latest device-check result (staff see it beside them)."""
    with db.write() as session:
        session.execute(
            update(MeetingParticipant)
            .where(MeetingParticipant.id == presence.participant_id)
            .values(device_check=result, device_checked_at=clock.now())
        )
        publish_on_commit(session, publish, presence.meeting_id, queue_of=presence.staff_member_ids)


def participant_of(db: Database, participant_id: str) -> str | None:
    """The meeting a participant id belongs to, or None."""
    with db.read() as session:
        return session.scalar(
            select(MeetingParticipant.meeting_id).where(MeetingParticipant.id == participant_id)
        )


def _staff_over(db: Database, staff: UserView, participant_id: str) -> Entrant:
    meeting_id = participant_of(db, participant_id)
    if meeting_id is None:
        raise VisitRefused("notFound", "Nobody of that id waits in this visit.")
    try:
        return check_staff_access(db, user=staff, meeting_id=meeting_id)
    except JoinRefused as refused:
        raise VisitRefused("notFound", "Nobody of that id waits in this visit.") from refused


def _waiting(session: Session, participant_id: str) -> MeetingParticipant:
    participant = session.get(MeetingParticipant, participant_id, with_for_update=True)
    if participant is None or participant.state != "lobby":
        raise VisitRefused("notWaiting", "That participant is not waiting in the lobby.")
    return participant


def _open_stretches(session: Session, participant_id: str) -> list[MeetingAttendance]:
    return list(
        session.scalars(
            select(MeetingAttendance).where(
                MeetingAttendance.participant_id == participant_id,
                MeetingAttendance.ended_at.is_(None),
            )
        )
    )


def _close_stretches(session: Session, participant_id: str, now: datetime) -> None:
    for stretch in _open_stretches(session, participant_id):
        stretch.ended_at = now


@dataclass(frozen=True, slots=True)
class Holder:
    """Whose presence a stretch is, and the connection and server process holding it."""

    meeting_id: str
    participant_id: str
    connection_id: str
    server_instance_id: str | None


def _open_stretch(
    session: Session, holder: Holder, kind: Literal["lobby", "call"], now: datetime
) -> None:
    session_id = _call_session(session, holder.meeting_id, now) if kind == "call" else None
    session.add(
        MeetingAttendance(
            meeting_id=holder.meeting_id,
            participant_id=holder.participant_id,
            session_id=session_id,
            kind=kind,
            connection_id=holder.connection_id,
            server_instance_id=holder.server_instance_id,
            started_at=now,
        )
    )


def _call_session(session: Session, meeting_id: str, now: datetime) -> str:
    """The meeting's sitting in progress, begun by the first to join the call."""
    open_id = session.scalar(
        select(MeetingSession.id).where(
            MeetingSession.meeting_id == meeting_id, MeetingSession.ended_at.is_(None)
        )
    )
    if open_id is not None:
        return open_id
    row = MeetingSession(id=str(uuid.uuid4()), meeting_id=meeting_id, started_at=now)
    session.add(row)
    session.flush()
    return row.id


def _audit(
    session: Session,
    action: Action,
    staff: UserView,
    participant: MeetingParticipant,
    now: datetime,
) -> None:
    audit.record(
        session,
        action,
        actor=f"user:{staff.id}",
        subject=participant.meeting_id,
        at=now,
        data={"participantId": participant.id, "role": participant.role},
    )


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")
