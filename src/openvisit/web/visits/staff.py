"""The staff side of visits, behind the sign-in.

- `/visits/today`: the live day board (static/visit/board.js): upcoming, waiting (with
  wait time and device-check result), in call, done; admit, deny, message, "running
  late", and one click into a visit. Its data comes over the WebSocket (`hello` with
  `board: true`), so the page itself is a frame.
- `/visits/{meeting_id}`: the provider's call page (static/visit/staff.js) with the
  waiting list beside it. Only staff who may run the meeting (meetings/access.py) get it.

Both are English, like every staff page (docs/i18n.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from openvisit.auth.sessions import csrf_token
from openvisit.meetings.access import JoinRefused, check_staff_access
from openvisit.web.deps import RuntimeDep, SignedInDep
from openvisit.web.rendering import PageRoute
from openvisit.web.sign_in import login_redirect
from openvisit.web.visits.common import render_staff, script_config, when

router = APIRouter(include_in_schema=False, route_class=PageRoute)
STAFF_LANGUAGE = "en"
REFUSALS = {
    "notYours": (
        403,
        "Not your visit",
        "You are not on this appointment, so you cannot run its visit.",
    ),
    "cancelled": (410, "Visit cancelled", "This appointment has been cancelled."),
}


@router.get("/visits/today")
def board_page(request: Request, runtime: RuntimeDep, signed_in: SignedInDep) -> Response:
    if signed_in is None:
        return login_redirect(request, runtime)
    config = script_config(STAFF_LANGUAGE, page="board", displayName=signed_in.user.display_name)
    context = {
        "user": signed_in.user,
        "csrf_token": csrf_token(runtime.secret_key, signed_in.session.nonce),
        "config": config,
    }
    return render_staff(request, "board.html", context)


@router.get("/visits/{meeting_id}")
def provider_page(
    request: Request, runtime: RuntimeDep, signed_in: SignedInDep, meeting_id: str
) -> Response:
    if signed_in is None:
        return login_redirect(request, runtime)
    bar = {
        "user": signed_in.user,
        "csrf_token": csrf_token(runtime.secret_key, signed_in.session.nonce),
    }
    try:
        entrant = check_staff_access(runtime.db, user=signed_in.user, meeting_id=meeting_id)
    except JoinRefused as refused:
        status, title, message = REFUSALS.get(refused.reason, REFUSALS["notYours"])
        context = {**bar, "title": title, "message": message}
        return render_staff(request, "staff_refused.html", context, status_code=status)
    meeting = entrant.meeting
    config = script_config(
        STAFF_LANGUAGE,
        page="staff",
        meetingId=meeting.id,
        role="provider",
        displayName=entrant.display_name,
        # The network check's; the call uses the `welcome` frame's, fresh at each connection.
        rtcConfiguration=runtime.rtc_configuration(entrant.participant_key),
    )
    context = {
        **bar,
        "config": config,
        "subject": meeting.subject,
        "customer": meeting.customer_name,
        "when": when(meeting, STAFF_LANGUAGE, meeting.business_time_zone),
        "business": meeting.business_name,
    }
    return render_staff(request, "staff.html", context)
