"""/dev/outbox: every e-mail and text message the local outbox kept, for administrators.

With no SMTP server or SMS provider configured, nothing leaves the server; this is where
a new user sees what the system would have sent, and follows a message's links (the
manage link of a demo booking, say). Only server administrators may look: the messages
carry every consumer's links, which act for their appointments.

An e-mail's HTML part is someone else's markup as far as this page is concerned, so it
is never put into the page itself: it is shown in `<iframe sandbox srcdoc>`, where it
runs no script, submits no form and has an opaque origin (no cookie, no same-origin
request). The frame inherits this page's Content-Security-Policy, which for this page
alone also allows inline styles (what e-mail HTML is made of) and data: images; remote
images stay blocked, so opening a message fetches nothing from elsewhere. Links open in
a new tab (`<base target="_blank">` plus allow-popups), escaping the sandbox so the
page they open works as it would from a mail client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from openvisit.auth.access import SERVER_ADMINISTRATOR
from openvisit.auth.sessions import SignedIn, csrf_token
from openvisit.notify.outbox_view import (
    OutboxItem,
    OutboxMessageView,
    get_outbox_message,
    list_outbox,
)
from openvisit.runtime import Runtime
from openvisit.web.deps import RuntimeDep, SignedInDep
from openvisit.web.redirects import STAFF_HOME
from openvisit.web.rendering import CONTENT_SECURITY_POLICY, PageRoute, page
from openvisit.web.sign_in import login_redirect

router = APIRouter(include_in_schema=False, route_class=PageRoute)

OUTBOX_PATH: Final = "/dev/outbox"
CALENDAR_TYPE: Final = "text/calendar; charset=utf-8"
# The message page only: the policy its srcdoc frame inherits (see the module docstring).
MESSAGE_POLICY: Final = (
    f"{CONTENT_SECURITY_POLICY}; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
)
FRAME_SANDBOX: Final = "allow-popups allow-popups-to-escape-sandbox"
# Put first in the frame's document: the HTML parser moves it into <head> wherever the
# message's own <html> and <head> begin, so every link opens a new tab.
FRAME_PREAMBLE: Final = '<!doctype html><base target="_blank">'
NOT_ADMINISTRATOR: Final = "The outbox is shown to server administrators only."
NO_SUCH_MESSAGE: Final = "The outbox has no message with this number."
CHANNELS: Final = {"email": "E-mail", "sms": "SMS"}
_LINK: Final = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# Punctuation after a link in running text ends the sentence, not the URL.
_TRAILING: Final = ".,;:!?)]}'\""
# Ids are digits; more than 18 could overflow a 64-bit integer (SQLite refuses those).
_MAX_ID_DIGITS: Final = 18


@router.get(OUTBOX_PATH)
async def outbox_list(
    request: Request,
    runtime: RuntimeDep,
    signed_in: SignedInDep,
    before: str | None = None,
    after: str | None = None,
) -> Response:
    viewer = _administrator(request, runtime, signed_in)
    if isinstance(viewer, Response):
        return viewer
    listing = await run_in_threadpool(
        list_outbox, runtime.db, before=_cursor(before), after=_cursor(after)
    )
    context = {
        **_bar(runtime, viewer),
        "items": [_listed(item) for item in listing.items],
        "older": listing.older,
        "newer": listing.newer,
        "paged": before is not None or after is not None,
    }
    return page(request, "outbox.html", context)


@router.get(OUTBOX_PATH + "/{message_id}")
async def outbox_message(
    request: Request, runtime: RuntimeDep, signed_in: SignedInDep, message_id: str
) -> Response:
    viewer = _administrator(request, runtime, signed_in)
    if isinstance(viewer, Response):
        return viewer
    message = await _message(runtime, message_id)
    if message is None:
        return _error(request, NO_SUCH_MESSAGE, 404)
    context = {**_bar(runtime, viewer), **_shown(message)}
    response = page(request, "outbox_message.html", context)
    response.headers["Content-Security-Policy"] = MESSAGE_POLICY
    return response


@router.get(OUTBOX_PATH + "/{message_id}/invite.ics")
async def outbox_invite(
    request: Request, runtime: RuntimeDep, signed_in: SignedInDep, message_id: str
) -> Response:
    viewer = _administrator(request, runtime, signed_in)
    if isinstance(viewer, Response):
        return viewer
    message = await _message(runtime, message_id)
    if message is None or message.calendar is None:
        return _error(request, NO_SUCH_MESSAGE, 404)
    headers = {"Content-Disposition": 'attachment; filename="invite.ics"'}
    return Response(message.calendar.encode("utf-8"), headers=headers, media_type=CALENDAR_TYPE)


def _administrator(
    request: Request, runtime: Runtime, signed_in: SignedIn | None
) -> SignedIn | Response:
    """The signed-in server administrator, or the answer for anyone else: the login page
    when signed out, a 403 page for other staff."""
    if signed_in is None:
        return login_redirect(request, runtime)
    if signed_in.user.role != SERVER_ADMINISTRATOR:
        return _error(request, NOT_ADMINISTRATOR, 403)
    return signed_in


def _error(request: Request, message: str, status: int) -> Response:
    context = {"message": message, "back": OUTBOX_PATH if status == 404 else STAFF_HOME}
    return page(request, "error.html", context, status_code=status)


def _cursor(value: str | None) -> int | None:
    # A cursor that is not an id (edited by hand, say) shows the newest page.
    if value is None or len(value) > _MAX_ID_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


async def _message(runtime: Runtime, message_id: str) -> OutboxMessageView | None:
    number = _cursor(message_id)
    if number is None:
        return None
    return await run_in_threadpool(get_outbox_message, runtime.db, number)


def _bar(runtime: Runtime, signed_in: SignedIn) -> dict[str, Any]:
    return {"csrf_token": csrf_token(runtime.secret_key, signed_in.session.nonce)}


def _listed(item: OutboxItem) -> Mapping[str, Any]:
    return {
        "href": f"{OUTBOX_PATH}/{item.id}",
        "channel": CHANNELS.get(item.channel, item.channel),
        "sms": item.channel == "sms",
        "recipient": _recipient(item.recipient, item.recipient_name),
        "summary": item.summary or "(no subject)",
        "segments": item.segments,
        **_when(item.created_at),
    }


def _shown(message: OutboxMessageView) -> Mapping[str, Any]:
    sms = message.channel == "sms"
    return {
        "id": message.id,
        "title": "Text message" if sms else (message.subject or "(no subject)"),
        "channel": CHANNELS.get(message.channel, message.channel),
        "sms": sms,
        "recipient": _recipient(message.recipient, message.recipient_name),
        "subject": message.subject,
        "idempotency_key": message.idempotency_key,
        "segments": message.segments,
        "encoding": message.encoding,
        "text_parts": linked(message.text),
        "srcdoc": FRAME_PREAMBLE + message.html if message.html is not None else None,
        "sandbox": FRAME_SANDBOX,
        "calendar": message.calendar,
        "invite_href": f"{OUTBOX_PATH}/{message.id}/invite.ics",
        "attachments": [
            {"filename": item.filename, "content_type": item.content_type, "size": _size(item.size)}
            for item in message.attachments
        ],
        **_when(message.created_at),
    }


def linked(text: str) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is_link) runs, so the template can make the links clickable
    while autoescaping every piece; only http(s) URLs become links."""
    parts: list[tuple[str, bool]] = []
    start = 0
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if match.start() > start:
            parts.append((text[start : match.start()], False))
        parts.append((url, True))
        start = match.start() + len(url)
    if start < len(text):
        parts.append((text[start:], False))
    return parts


def _recipient(address: str, name: str | None) -> str:
    return f"{name} <{address}>" if name else address


def _when(moment: datetime) -> Mapping[str, str]:
    return {"when_iso": moment.isoformat(), "when": f"{moment:%Y-%m-%d %H:%M:%S} UTC"}


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
