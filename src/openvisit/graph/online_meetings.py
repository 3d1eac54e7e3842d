"""/me/onlineMeetings and /users/{id}/onlineMeetings: onlineMeeting, and its consumer's
join link (getVirtualAppointmentJoinWebUrl).

Each route is served under both roots (`meeting_routes`); whose meetings a request
reaches is auth/acting_user.py's rule. Decisions where Graph leaves room:

- `joinWebUrl` (and the legacy `joinUrl`) is the provider's link, behind the staff
  sign-in; the consumer's link comes from getVirtualAppointmentJoinWebUrl only.
- GET on the collection lists the user's meetings by start (Graph itself answers only
  `$filter=JoinWebUrl eq '...'`, which is supported too and finds one meeting or none).
- PATCH answers 200 with the meeting (as Graph's onlineMeeting update does); createOrGet
  201 when it made the meeting, 200 when it found it.
- A meeting that belongs to a booking appointment cannot be moved or deleted here (409):
  it follows its appointment.
"""

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from openvisit import join_links
from openvisit.auth import access
from openvisit.auth.access import Caller, Operation
from openvisit.auth.acting_user import acting_user_id
from openvisit.auth.users import UserView, get_user
from openvisit.errors import InvalidInput, NotFound
from openvisit.graph.deps import Require, RuntimeDep
from openvisit.graph.odata import collection, parse_options, select_properties
from openvisit.graph.responses import context_url, quote_key, stored, timestamp
from openvisit.graph.schemas.meeting import (
    GetJoinWebUrlOut,
    OnlineMeetingBody,
    OnlineMeetingCollection,
    OnlineMeetingOut,
)
from openvisit.listing import Comparison, ListQuery, Page
from openvisit.meetings import links, online_meetings
from openvisit.meetings.online_meetings import MeetingChanges
from openvisit.meetings.views import MeetingView
from openvisit.runtime import Runtime

ME = "/me/onlineMeetings"
USERS = "/users/{user_id}/onlineMeetings"
ROOTS = {"me": ME, "user": USERS}
router = APIRouter(tags=["onlineMeeting"])
_PROPERTY_FIELDS = {
    "lobby_bypass_settings": "lobbyBypassSettings",
    "allowed_presenters": "allowedPresenters",
    "is_entry_exit_announced": "isEntryExitAnnounced",
    "allow_meeting_chat": "allowMeetingChat",
}


class Acting:
    """The checked caller and the staff user whose meetings the request reaches."""

    def __init__(self, caller: Caller, user_id: str) -> None:
        self.caller = caller
        self.user_id = user_id

    @property
    def actor(self) -> str:
        return self.caller.actor


def acting(operation: Operation) -> Callable[..., Any]:
    """Dependency: Require(operation), then the user of `/me` or `/users/{user_id}`."""
    require = Require(operation)

    async def dependency(
        request: Request,
        runtime: RuntimeDep,
        caller: Annotated[Caller, Depends(require)],
    ) -> Acting:
        user = request.path_params.get("user_id")
        user_id = await run_in_threadpool(acting_user_id, runtime.db, caller, operation, user)
        return Acting(caller, user_id)

    return dependency


Reader = Annotated[Acting, Depends(acting(access.MEETING_READ))]
Writer = Annotated[Acting, Depends(acting(access.MEETING_WRITE))]
JoinUrlReader = Annotated[Acting, Depends(acting(access.MEETING_JOIN_URL))]


def meeting_routes(
    method: str,
    path: str,
    name: str,
    *,
    status_code: int = 200,
    on: APIRouter = router,
    **options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the endpoint under /me/onlineMeetings and /users/{id}/onlineMeetings."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        for prefix, root in ROOTS.items():
            on.add_api_route(
                root + path,
                endpoint,
                methods=[method],
                name=f"{prefix}_{name}",
                status_code=status_code,
                **options,
            )
        return endpoint

    return register


# --- requests -> the meetings service ------------------------------------------------------


def changes_of(body: OnlineMeetingBody) -> MeetingChanges:
    sent = body.model_fields_set
    properties: dict[str, Any] = {}
    for name, key in _PROPERTY_FIELDS.items():
        if name in sent and getattr(body, name) is not None:
            value = getattr(body, name)
            properties[key] = stored(value) if not isinstance(value, str | bool) else value
    if body.participants is not None and body.participants.attendees is not None:
        properties["attendees"] = stored(body.participants.attendees)
    names = {"subject": "subject", "start_date_time": "start", "end_date_time": "end"}
    for name in ("start_date_time", "end_date_time"):
        if name in sent and getattr(body, name) is None:
            alias = OnlineMeetingBody.model_fields[name].alias or name
            raise InvalidInput("propertyNotNull", target=alias, property=alias)
    return MeetingChanges(
        subject=body.subject,
        start=body.start_date_time,
        end=body.end_date_time,
        properties=properties,
        sent=frozenset(short for name, short in names.items() if name in sent),
    )


# --- the meetings service's views -> Graph JSON ----------------------------------------------


def _organizer(user: UserView | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "identity": {"user": {"id": user.id, "displayName": user.display_name}},
        "role": "presenter",
        "upn": user.email,
    }


def _clients(meeting: MeetingView) -> list[dict[str, Any]]:
    """The virtualAppointment's clients: the meeting's consumers, as guest attendees."""
    clients = (meeting.virtual_appointment or {}).get("appointmentClients") or []
    return [
        {
            "identity": {"guest": {"id": "consumer", "displayName": client.get("displayName")}},
            "role": "attendee",
            "upn": client.get("emailAddress"),
        }
        for client in clients
    ]


def meeting_json(meeting: MeetingView, organizer: UserView | None, base_url: str) -> dict[str, Any]:
    properties = meeting.properties
    staff_url = join_links.staff_join_url(base_url, meeting.id)
    return {
        "id": meeting.id,
        "subject": meeting.subject,
        "startDateTime": timestamp(meeting.start_date_time),
        "endDateTime": timestamp(meeting.end_date_time),
        "creationDateTime": timestamp(meeting.created_date_time),
        "joinWebUrl": staff_url,
        "joinUrl": staff_url,
        "externalId": meeting.external_id,
        "allowedPresenters": properties.get("allowedPresenters", "everyone"),
        "allowMeetingChat": properties.get("allowMeetingChat", "enabled"),
        "isEntryExitAnnounced": properties.get("isEntryExitAnnounced", True),
        "lobbyBypassSettings": {
            "scope": None,
            "isDialInBypassEnabled": None,
            **(properties.get("lobbyBypassSettings") or {}),
        },
        "participants": {
            "organizer": _organizer(organizer),
            "attendees": [*(properties.get("attendees") or []), *_clients(meeting)],
        },
        "chatInfo": {
            "threadId": f"openvisit:meeting:{meeting.id}",
            "messageId": "0",
            "replyChainMessageId": None,
        },
        "joinInformation": {
            "content": "data:text/html,"
            + quote(f'<a href="{staff_url}">Join the visit</a>', safe=""),
            "contentType": "html",
        },
    }


def _user_or_none(runtime: Runtime, user_id: str | None) -> UserView | None:
    """The organizer to show; none once their account is gone or deactivated."""
    if user_id is None:
        return None
    try:
        return get_user(runtime.db, user_id)
    except NotFound:
        return None


def entity_set(acting: Acting) -> str:
    return f"users({quote_key(acting.user_id)})/onlineMeetings"


def _entity(
    request: Request, runtime: Runtime, acting: Acting, meeting: MeetingView
) -> dict[str, Any]:
    organizer = _user_or_none(runtime, meeting.organizer_user_id)
    return {
        "@odata.context": context_url(request, f"{entity_set(acting)}/$entity"),
        **meeting_json(meeting, organizer, runtime.base_url),
    }


def _join_web_url_filter(query: ListQuery) -> str | None:
    """The URL of `$filter=JoinWebUrl eq '...'`; None without a $filter; 400 for others."""
    found = query.filter
    if found is None:
        return None
    if (
        isinstance(found, Comparison)
        and found.property.lower() == "joinweburl"
        and found.operator == "eq"
        and isinstance(found.value, str)
    ):
        return found.value
    raise InvalidInput("meetingFilterUnsupported", target="$filter")


# --- routes -----------------------------------------------------------------------------


@meeting_routes(
    "GET", "", "list_online_meetings", responses={200: {"model": OnlineMeetingCollection}}
)
def list_online_meetings(request: Request, runtime: RuntimeDep, acting: Reader) -> Any:
    """The user's online meetings, or the one `$filter=JoinWebUrl eq '<url>'` names."""
    options = parse_options(request)
    url = _join_web_url_filter(options.query)
    page: Page[MeetingView]
    if url is not None:
        found = links.find_by_staff_url(runtime.db, runtime.base_url, acting.user_id, url)
        page = Page(items=(found,) if found is not None else (), total=None)
    else:
        page = online_meetings.list_meetings(
            runtime.db, acting.user_id, options.query, page_size=runtime.page_size
        )
    organizer = _user_or_none(runtime, acting.user_id)
    values = [meeting_json(item, organizer, runtime.base_url) for item in page.items]
    context = context_url(request, entity_set(acting))
    return collection(request, context, page, values, options)


@meeting_routes(
    "POST",
    "",
    "create_online_meeting",
    status_code=201,
    responses={201: {"model": OnlineMeetingOut}},
)
def create_online_meeting(
    request: Request, body: OnlineMeetingBody, runtime: RuntimeDep, acting: Writer
) -> Any:
    """Create an online meeting for the user (start: now, end: an hour later by default)."""
    meeting = online_meetings.create_meeting(
        runtime.db,
        runtime.clock,
        acting.user_id,
        changes_of(body),
        actor=acting.actor,
        external_id=body.external_id,
    )
    return _entity(request, runtime, acting, meeting)


@meeting_routes(
    "POST",
    "/createOrGet",
    "create_or_get_online_meeting",
    status_code=201,
    responses={201: {"model": OnlineMeetingOut}, 200: {"model": OnlineMeetingOut}},
)
def create_or_get_online_meeting(
    request: Request,
    body: OnlineMeetingBody,
    runtime: RuntimeDep,
    acting: Writer,
    response: Response,
) -> Any:
    """The user's meeting with this externalId: 201 when made now, 200 when it existed."""
    if body.external_id is None:
        raise InvalidInput("propertyRequired", target="externalId", property="externalId")
    meeting, made = online_meetings.create_or_get(
        runtime.db,
        runtime.clock,
        acting.user_id,
        body.external_id,
        changes_of(body),
        actor=acting.actor,
    )
    response.status_code = 201 if made else 200
    return _entity(request, runtime, acting, meeting)


@meeting_routes(
    "GET", "/{meeting_id}", "get_online_meeting", responses={200: {"model": OnlineMeetingOut}}
)
def get_online_meeting(
    request: Request, meeting_id: str, runtime: RuntimeDep, acting: Reader
) -> Any:
    """Get one of the user's online meetings."""
    options = parse_options(request)
    meeting = online_meetings.get_meeting_for(runtime.db, acting.user_id, meeting_id)
    return select_properties(_entity(request, runtime, acting, meeting), options.select)


@meeting_routes(
    "PATCH", "/{meeting_id}", "update_online_meeting", responses={200: {"model": OnlineMeetingOut}}
)
def update_online_meeting(
    request: Request,
    meeting_id: str,
    body: OnlineMeetingBody,
    runtime: RuntimeDep,
    acting: Writer,
) -> Any:
    """Update subject, times (not of an appointment's meeting), participants, settings."""
    meeting = online_meetings.update_meeting(
        runtime.db, runtime.clock, acting.user_id, meeting_id, changes_of(body), actor=acting.actor
    )
    return _entity(request, runtime, acting, meeting)


@meeting_routes(
    "DELETE", "/{meeting_id}", "delete_online_meeting", status_code=204, response_class=Response
)
def delete_online_meeting(meeting_id: str, runtime: RuntimeDep, acting: Writer) -> Response:
    """Delete an online meeting (an appointment's goes with its appointment: 409)."""
    online_meetings.delete_meeting(
        runtime.db, runtime.clock, acting.user_id, meeting_id, actor=acting.actor
    )
    return Response(status_code=204)


@meeting_routes(
    "GET",
    "/{meeting_id}/getVirtualAppointmentJoinWebUrl",
    "get_virtual_appointment_join_web_url",
    responses={200: {"model": GetJoinWebUrlOut}},
)
def get_virtual_appointment_join_web_url(
    request: Request, meeting_id: str, runtime: RuntimeDep, acting: JoinUrlReader
) -> Any:
    """The consumer's join link (device check, then the waiting room); 409 once cancelled."""
    url = links.consumer_join_url(
        runtime.db, runtime.secret_key, runtime.base_url, acting.user_id, meeting_id
    )
    return {"@odata.context": context_url(request, "Edm.String"), "value": url}
