"""One rendered e-mail (messages.EmailMessage) as the MIME message SMTP carries.

The layout is the one calendar invitations from Google Calendar and Outlook have, which
both of them and Apple Mail show as an invitation with buttons:

    multipart/mixed
      multipart/alternative
        text/plain                                  the text
        text/html                                   when the message has HTML
        text/calendar; method=REQUEST; charset=utf-8  the invitation, shown inline
      application/ics; name=invite.ics              the same calendar, as a file
      ...                                           the message's attachments

Without a calendar or attachments it is multipart/alternative, or text/plain alone.
Outlook desktop offers "Add to calendar" from the attached file only; a second part of
type text/calendar would show two invitations in some clients, hence application/ics.

Bodies go out as quoted-printable or base64 when they are not ASCII, never 8bit, so a
server without 8BITMIME takes them too. `build_mime` is pure: it reads no clock, opens
nothing, and a header it cannot write (a line break in a name) raises ValueError.
"""

from __future__ import annotations

import email.message
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.utils import format_datetime
from typing import Final

from openvisit.notify.messages import Attachment, EmailMessage

POLICY: Final = email.policy.SMTP.clone(cte_type="7bit")
INVITE_FILENAME: Final = "invite.ics"
# Headers build_mime writes itself; a message's extra headers may not replace them.
OWN_HEADERS: Final = frozenset(
    {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}
    | {"content-transfer-encoding", "content-language", "auto-submitted"}
)
_METHOD_LINE: Final = re.compile(rb"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Sender:
    address: str
    name: str | None = None


def build_mime(message: EmailMessage, *, sender: Sender, date: datetime) -> email.message.Message:
    """The whole message (headers and body) for `message`, sent by `sender` at `date`."""
    mime = email.message.EmailMessage(policy=POLICY)
    mime["From"] = Address(display_name=sender.name or "", addr_spec=sender.address)
    mime["To"] = Address(display_name=message.to_name or "", addr_spec=envelope(message.to_address))
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(date)
    mime["Message-ID"] = message.message_id
    # RFC 3834: out-of-office and other auto-responders do not answer this message;
    # the second is Exchange's own spelling of the same request.
    mime["Auto-Submitted"] = "auto-generated"
    mime["X-Auto-Response-Suppress"] = "All"
    for name, value in message.headers:
        if name.lower() in OWN_HEADERS:
            raise ValueError(f"the {name} header is the transport's to write")
        mime[name] = value
    _add_body(mime, message)
    # After the body: setting content clears (or moves into a part) every Content-* header.
    mime["Content-Language"] = message.language
    for part in mime.walk():
        if part is not mime:
            del part["MIME-Version"]  # the stdlib adds it to every part; it belongs on top
    return mime


def _add_body(mime: email.message.EmailMessage, message: EmailMessage) -> None:
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
    if message.calendar is not None:
        calendar = message.calendar
        mime.add_alternative(
            calendar.data.decode("utf-8"),
            subtype="calendar",
            params={"method": calendar_method(calendar)},
        )
        mime.add_attachment(
            calendar.data,
            maintype="application",
            subtype="ics",
            filename=INVITE_FILENAME,
            params={"name": INVITE_FILENAME},
        )
    for attachment in message.attachments:
        maintype, subtype, params = content_type(attachment.content_type)
        mime.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )


def calendar_method(calendar: Attachment) -> str:
    """The iTIP method (REQUEST, CANCEL, ...): the part's own, else the file's METHOD."""
    _maintype, _subtype, params = content_type(calendar.content_type)
    method = params.get("method")
    if not method:
        found = _METHOD_LINE.search(calendar.data)
        method = found.group(1).decode("ascii") if found else "PUBLISH"
    return method.upper()


def content_type(value: str) -> tuple[str, str, dict[str, str]]:
    """("text", "calendar", {"method": "REQUEST"}) of "text/calendar; method=REQUEST"."""
    header = email.message.Message()
    header["Content-Type"] = value
    params = {str(key).lower(): str(item) for key, item in (header.get_params() or [])[1:]}
    return header.get_content_maintype(), header.get_content_subtype(), params


def envelope(address: str) -> str:
    """The address as SMTP carries it: an internationalized domain in its ASCII form, so
    only a non-ASCII local part needs a server with SMTPUTF8."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError("not an e-mail address")
    try:
        domain.encode("ascii")
    except UnicodeEncodeError:
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def needs_smtputf8(address: str) -> bool:
    return not address.isascii()


def masked(address: str) -> str:
    """An address as a log may show it: "a***@example.org"."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"
