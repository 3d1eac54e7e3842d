"""The consumer's and guests' visit pages, reached through a join link.

- `/join/{token}`: one page in three stages driven by static/visit/join.js: the device
  check (skipped once passed on this device), the waiting room, the call.
- `/join/{token}/check`: the device check alone (linked from reminders, to test ahead);
  POST stores its result (JSON, docs/realtime-protocol.md "Device-check result").
- `/join/{token}/check/ping` and `/check/download`: what the network check times.

A link that does not let its holder in (meetings/access.py) gets a page that says why in
plain words and carries no script at all: nothing on it opens a WebSocket or a camera.
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from openvisit.bookings.page_limits import count_post
from openvisit.errors import RetryLater
from openvisit.join_links import read_join_token
from openvisit.link_tokens import InvalidLink
from openvisit.meetings.access import Entrant, JoinRefused, check_join_link, load_meeting
from openvisit.meetings.device_checks import (
    MAX_RESULT_BYTES,
    BadDeviceCheck,
    parse_device_check,
    record_device_check,
)
from openvisit.meetings.guest_names import GUEST_LABEL, GUEST_NAME_MAX_LENGTH
from openvisit.runtime import Runtime
from openvisit.web.consumer.rendering import Brand, gettext_for, page_language, render
from openvisit.web.deps import ClientDep, RuntimeDep
from openvisit.web.rendering import PageRoute
from openvisit.web.visits.common import (
    PRIVATE_HEADERS,
    json_error,
    meeting_brand,
    script_config,
    when,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)
OptionalQuery = Annotated[str | None, Query(max_length=64)]
REFUSED_STATUS = {"invalid": 404, "expired": 410, "revoked": 410, "cancelled": 410, "notYours": 403}
# The bandwidth sample: random, so no compression on the way makes it look faster.
DOWNLOAD_MAX_KB = 512
DOWNLOAD_DEFAULT_KB = 256
_SAMPLE = os.urandom(DOWNLOAD_MAX_KB * 1024)
NO_STORE = {"Cache-Control": "no-store, no-transform"}


@router.get("/join/{token}")
def join_page(
    request: Request, runtime: RuntimeDep, token: str, tz: OptionalQuery = None
) -> Response:
    entrant = _entrant(runtime, token)
    if isinstance(entrant, JoinRefused):
        return refused_page(request, runtime, token, entrant)
    return _visit_page(request, runtime, token, entrant, tz, stage="join")


@router.get("/join/{token}/check")
def check_page(
    request: Request, runtime: RuntimeDep, token: str, tz: OptionalQuery = None
) -> Response:
    entrant = _entrant(runtime, token)
    if isinstance(entrant, JoinRefused):
        return refused_page(request, runtime, token, entrant)
    return _visit_page(request, runtime, token, entrant, tz, stage="check")


@router.post("/join/{token}/check")
async def store_check(
    request: Request, runtime: RuntimeDep, client: ClientDep, token: str
) -> Response:
    # JSON only: a cross-site form cannot send it without the browser asking first (CORS),
    # so the token in the address is all the authority this needs.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return json_error(415, "unsupportedMediaType", "Send the result as application/json.")
    body = await _bounded_body(request)
    if body is None:
        return json_error(413, "payloadTooLarge", f"At most {MAX_RESULT_BYTES} bytes.")
    try:
        # Each result is a write: the consumer pages' limit per address applies.
        await run_in_threadpool(count_post, runtime.db, runtime.clock.now(), client.address)
    except RetryLater as refused:
        answer = json_error(429, "tooManyRequests", refused.message)
        answer.headers["Retry-After"] = str(refused.retry_after_seconds)
        return answer
    entrant = await run_in_threadpool(_entrant, runtime, token)
    if isinstance(entrant, JoinRefused):
        status = REFUSED_STATUS[entrant.reason]
        return json_error(status, entrant.reason, "This link does not let you in.")
    try:
        result = parse_device_check(body)
    except BadDeviceCheck as error:
        return json_error(400, "invalidDeviceCheck", str(error))
    stored = await run_in_threadpool(
        record_device_check, runtime.db, runtime.clock, entrant, result
    )
    return JSONResponse({"deviceCheck": stored}, headers=NO_STORE)


@router.get("/join/{token}/check/ping")
def ping(runtime: RuntimeDep, token: str) -> Response:
    """An empty answer to time round trips by; the signature is checked, the database not
    (its time is no part of the network's)."""
    if not _signed(runtime, token):
        return Response(status_code=404, headers=NO_STORE)
    return Response(status_code=204, headers=NO_STORE)


@router.get("/join/{token}/check/download")
def download(
    runtime: RuntimeDep,
    token: str,
    kb: Annotated[int, Query(ge=1, le=DOWNLOAD_MAX_KB)] = DOWNLOAD_DEFAULT_KB,
) -> Response:
    """`kb` KiB of random bytes, never cached: the bandwidth estimate's sample."""
    if not _signed(runtime, token):
        return Response(status_code=404, headers=NO_STORE)
    return Response(
        content=_SAMPLE[: kb * 1024], media_type="application/octet-stream", headers=NO_STORE
    )


def refused_page(request: Request, runtime: Runtime, token: str, refused: JoinRefused) -> Response:
    """Why this link does not open the visit; branded when the link is genuine."""
    brand = (
        _brand_of_genuine(runtime, token) if refused.reason in ("revoked", "cancelled") else None
    )
    language = page_language(request, None)
    _ = gettext_for(language)
    business = brand.name if brand else None
    titles = {
        "invalid": _("This link does not work"),
        "expired": _("This link has expired"),
        "revoked": _("This link was replaced"),
        "cancelled": _("This visit was cancelled"),
    }
    messages = {
        "invalid": _(
            "This visit link is not valid. Check that you opened the whole link from your "
            "message, or ask the business that sent it for a new one."
        ),
        "expired": _(
            "The link to this visit is no longer valid. Please ask the business that sent "
            "it for a new link."
        ),
        "revoked": (
            _(
                "A newer link to this visit was sent. Please use the newest message "
                "from %(business)s, or ask them for a new link."
            )
            % {"business": business}
            if business
            else _("A newer link to this visit was sent. Please use the newest message.")
        ),
        "cancelled": _("This appointment has been cancelled, so there is no visit to join."),
    }
    reason = refused.reason if refused.reason in titles else "invalid"
    context = {"brand": brand, "title": titles[reason], "message": messages[reason]}
    response = render(
        request,
        runtime,
        "visit/refused.html",
        context,
        language=language,
        here=request.url.path,
        status_code=REFUSED_STATUS[reason],
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


def _visit_page(
    request: Request, runtime: Runtime, token: str, entrant: Entrant, tz: str | None, *, stage: str
) -> Response:
    meeting = entrant.meeting
    language = page_language(request, None, preferred=meeting.customer_language)
    base = f"/join/{token}"
    config = script_config(
        language,
        page=stage,
        join=token,
        meetingId=meeting.id,
        role=entrant.role,
        displayName=entrant.display_name,
        checkUrl=f"{base}/check",
        pingUrl=f"{base}/check/ping",
        downloadUrl=f"{base}/check/download",
        joinUrl=base,
        # The network check's; the call uses the `welcome` frame's, fresh at each connection.
        rtcConfiguration=runtime.rtc_configuration(entrant.participant_key),
    )
    context = {
        "brand": meeting_brand(meeting),
        "stage": stage,
        # A guest names themselves first; the prompt holds the invitation's name, if any.
        "guest_name": _invited_name(entrant) if entrant.role == "guest" else None,
        "guest_name_max": GUEST_NAME_MAX_LENGTH,
        "subject": meeting.subject,
        "when": when(meeting, language, tz),
        "config": config,
        "join_url": base,
    }
    name = "visit/join.html" if stage == "join" else "visit/check.html"
    response = render(request, runtime, name, context, language=language, here=request.url.path)
    response.headers.update(PRIVATE_HEADERS)
    return response


def _invited_name(entrant: Entrant) -> str:
    return "" if entrant.display_name == GUEST_LABEL else entrant.display_name


def _entrant(runtime: Runtime, token: str) -> Entrant | JoinRefused:
    try:
        return check_join_link(
            runtime.db, secret_key=runtime.secret_key, token=token, now=runtime.clock.now()
        )
    except JoinRefused as refused:
        return refused


def _signed(runtime: Runtime, token: str) -> bool:
    try:
        read_join_token(runtime.secret_key, token, now=runtime.clock.now())
    except InvalidLink:
        return False
    return True


def _brand_of_genuine(runtime: Runtime, token: str) -> Brand | None:
    # A revoked or cancelled link is genuine (we signed it), so naming its business tells
    # its holder nothing they did not have.
    try:
        claim = read_join_token(runtime.secret_key, token, now=runtime.clock.now())
    except InvalidLink:
        return None
    meeting = load_meeting(runtime.db, claim.meeting_id)
    return meeting_brand(meeting) if meeting is not None else None


async def _bounded_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_RESULT_BYTES:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_RESULT_BYTES:
            return None
    return body
