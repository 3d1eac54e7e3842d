"""Text messages about an online meeting (sendVirtualAppointmentSms and its reminder):
composed at send time from the meeting as it stands, like every other message.

Who it is from: the meeting's business, else its organizer. The time is in the zone the
request named for that attendee (IANA or Windows), else the business's, else UTC. The
consumer's join link goes after the text and is never shortened (sms_text.fit); a
cancellation carries none, and a meeting cancelled since cannot send anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session
from tzlocal.windows_tz import win_tz

from openvisit import i18n, join_links
from openvisit.notify.transports.base import PermanentFailure
from openvisit.store.models import Business, Notification, OnlineMeeting, StaffUser

KINDS = ("meetingConfirmation", "meetingRescheduled", "meetingCancelled", "meetingReminder")
CANCELLATION = "meetingCancelled"
_WINDOWS = {name.lower(): iana for name, iana in win_tz.items()}


class MeetingGone(PermanentFailure):
    """The meeting of this text was deleted or cancelled before it went out."""


@dataclass(frozen=True, slots=True)
class MeetingText:
    kind: str
    language: str
    sender: str
    subject: str | None
    start: datetime
    short_when: str
    zone: str
    join_url: str | None


def meeting_text_of(
    session: Session, notification: Notification, *, base_url: str, secret_key: str
) -> MeetingText:
    meeting = (
        session.get(OnlineMeeting, notification.meeting_id) if notification.meeting_id else None
    )
    if meeting is None:
        raise MeetingGone("the online meeting of this text no longer exists")
    cancelled = notification.kind == CANCELLATION
    if meeting.status == "cancelled" and not cancelled:
        raise MeetingGone("the online meeting was cancelled before this text went out")
    business = session.get(Business, meeting.business_id) if meeting.business_id else None
    organizer = (
        session.get(StaffUser, meeting.organizer_user_id) if meeting.organizer_user_id else None
    )
    sender = business.display_name if business else (organizer.display_name if organizer else "")
    language = i18n.supported(notification.language) or i18n.SOURCE_LANGUAGE
    zone = _zone((notification.data or {}).get("timeZone"), business)
    start = meeting.start_date_time
    token = None
    if not cancelled:
        token = join_links.join_token(
            secret_key,
            meeting.id,
            role="consumer",
            version=meeting.link_version,
            end=meeting.end_date_time,
        )
    return MeetingText(
        kind=notification.kind,
        language=language,
        sender=sender or "OpenVisit",
        subject=meeting.subject,
        start=start,
        short_when=i18n.format_datetime(start, zone, language, width="short"),
        zone=i18n.zone_label(zone, language, at=start),
        join_url=join_links.join_url(base_url, token) if token else None,
    )


def _zone(name: object, business: Business | None) -> tzinfo:
    settings = (business.booking_page_settings or {}) if business else {}
    for candidate in (name, settings.get("businessTimeZone")):
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        iana = _WINDOWS.get(candidate.strip().lower(), candidate.strip())
        try:
            return ZoneInfo(iana)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")
