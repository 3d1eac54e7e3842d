"""A meeting's links: the provider's (behind the staff sign-in) and the consumer's
capability (join_links.py), with the device check beside it.

The consumer's link is signed with the meeting's current `link_version` and expires
hours after its current end, so a moved meeting hands out a link that lasts as long as
it does, and raising the version revokes every one handed out before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from openvisit import join_links
from openvisit.errors import NotFound
from openvisit.meetings.online_meetings import check_open, get_meeting_for
from openvisit.meetings.views import MeetingLinks, MeetingView, snapshot
from openvisit.store.db import Database
from openvisit.store.models import OnlineMeeting


def links_of(secret_key: str, base_url: str, meeting: MeetingView) -> MeetingLinks:
    token = join_links.join_token(
        secret_key,
        meeting.id,
        role="consumer",
        version=meeting.link_version,
        end=meeting.end_date_time,
    )
    return MeetingLinks(
        meeting_id=meeting.id,
        staff_url=join_links.staff_join_url(base_url, meeting.id),
        consumer_url=join_links.join_url(base_url, token),
        device_check_url=join_links.device_check_url(base_url, token),
    )


def consumer_join_url(
    db: Database, secret_key: str, base_url: str, user_id: str, meeting_id: str
) -> str:
    """getVirtualAppointmentJoinWebUrl: the consumer's link; 409 once cancelled."""
    meeting = get_meeting_for(db, user_id, meeting_id)
    check_open(meeting)
    return links_of(secret_key, base_url, meeting).consumer_url


def meeting_id_of_staff_url(base_url: str, url: str) -> str | None:
    """The meeting a provider's link (joinWebUrl) names, None if it is not one of ours."""
    parts, ours = urlsplit(url.strip()), urlsplit(base_url)
    if (parts.scheme, parts.netloc.lower()) != (ours.scheme, ours.netloc.lower()):
        return None
    prefix = f"{ours.path.rstrip('/')}/visits/"
    if not parts.path.startswith(prefix):
        return None
    meeting_id = unquote(parts.path[len(prefix) :])
    return meeting_id if meeting_id and "/" not in meeting_id else None


def find_by_staff_url(db: Database, base_url: str, user_id: str, url: str) -> MeetingView | None:
    """`$filter=JoinWebUrl eq '...'`: the user's meeting behind that link, if any."""
    meeting_id = meeting_id_of_staff_url(base_url, url)
    if meeting_id is None:
        return None
    try:
        return get_meeting_for(db, user_id, meeting_id)
    except NotFound:
        return None


def appointment_links(
    db: Database, secret_key: str, base_url: str, appointment_ids: Iterable[str]
) -> Mapping[str, MeetingLinks]:
    """appointment id -> its meeting's links, for the appointments that have an open one.

    One query for a page of appointments: the Graph bookingAppointment's joinWebUrl and
    anonymousJoinWebUrl are computed from these, never stored.
    """
    wanted = sorted(set(appointment_ids))
    if not wanted:
        return {}
    with db.read() as session:
        rows = session.scalars(
            select(OnlineMeeting).where(OnlineMeeting.appointment_id.in_(wanted))
        ).all()
        meetings = [snapshot(MeetingView, row) for row in rows]
    return {
        str(meeting.appointment_id): links_of(secret_key, base_url, meeting)
        for meeting in meetings
        if not meeting.cancelled
    }
