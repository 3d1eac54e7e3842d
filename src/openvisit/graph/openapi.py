"""The OpenAPI document in Graph's terms: Graph's operation names, its error envelope, the
OData query options each operation takes, and the scope each one checks.

Everything is derived here, once, from one table keyed by route name and from the routes'
own `Require` dependencies, so route modules declare none of it a second time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, cast

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from openvisit.auth.access import Operation as AccessOperation
from openvisit.auth.scopes import IMPLIED_BY
from openvisit.graph.deps import Require
from openvisit.reasons import GRAPH_CODES

FILTER, ORDERBY, TOP, SKIP, COUNT, SELECT = "filter", "orderby", "top", "skip", "count", "select"
LIST = (FILTER, ORDERBY, TOP, SKIP, COUNT, SELECT)
GET = (SELECT,)
COUNTING = (FILTER,)
BEARER = "HTTPBearer"  # the scheme FastAPI names after graph/deps.py's HTTPBearer
DOCUMENTED_ERRORS = (400, 401, 403, 404, 409)


@dataclass(frozen=True)
class Operation:
    """Graph's name for an operation (as its docs pages name them, `resource_Verb`) and the
    OData query options it honours."""

    name: str
    options: tuple[str, ...] = ()


def _children(segment: str, resource: str) -> dict[str, Operation]:
    """The five operations graph/children.py builds for one resource inside a business."""
    return {
        f"list_{segment}": Operation(f"{resource}_List", LIST),
        f"create_{segment}": Operation(f"{resource}_Create"),
        f"count_{segment}": Operation(f"{resource}_Count", COUNTING),
        f"get_{segment}": Operation(f"{resource}_Get", GET),
        f"update_{segment}": Operation(f"{resource}_Update"),
        f"delete_{segment}": Operation(f"{resource}_Delete"),
    }


def _meetings(prefix: str) -> dict[str, Operation]:
    """graph/online_meetings.py's operations under /me (`me`) or /users/{id} (`user`)."""
    names = {
        "list_online_meetings": ("onlineMeeting_List", (FILTER, TOP, SKIP, COUNT, SELECT)),
        "create_online_meeting": ("onlineMeeting_Create", ()),
        "create_or_get_online_meeting": ("onlineMeeting_CreateOrGet", ()),
        "get_online_meeting": ("onlineMeeting_Get", GET),
        "update_online_meeting": ("onlineMeeting_Update", ()),
        "delete_online_meeting": ("onlineMeeting_Delete", ()),
        "get_virtual_appointment_join_web_url": (
            "virtualAppointment_GetVirtualAppointmentJoinWebUrl",
            (),
        ),
        "send_virtual_appointment_sms": ("virtualAppointment_SendVirtualAppointmentSms", ()),
        "send_virtual_appointment_reminder_sms": (
            "virtualAppointment_SendVirtualAppointmentReminderSms",
            (),
        ),
        "get_virtual_appointment": ("virtualAppointment_Get", ()),
        "put_virtual_appointment": ("virtualAppointment_Put", ()),
        "update_virtual_appointment": ("virtualAppointment_Update", ()),
        "delete_virtual_appointment": ("virtualAppointment_Delete", ()),
        "list_meeting_notifications": ("onlineMeeting_openvisit.notifications", ()),
        "list_attendance_reports": ("meetingAttendanceReport_List", ()),
        "get_attendance_report": ("meetingAttendanceReport_Get", ()),
        "list_attendance_records": ("attendanceRecord_List", ()),
    }
    return {
        f"{prefix}_{route}": Operation(f"{prefix}.{name}", options)
        for route, (name, options) in names.items()
    }


# Route name -> operation. Every route of the Graph API must have a row
# (tests/graph/test_openapi.py checks it).
OPERATIONS: dict[str, Operation] = {
    "list_booking_businesses": Operation("bookingBusiness_List", LIST),
    "create_booking_business": Operation("bookingBusiness_Create"),
    "count_booking_businesses": Operation("bookingBusiness_Count", COUNTING),
    "get_booking_business": Operation("bookingBusiness_Get", GET),
    "update_booking_business": Operation("bookingBusiness_Update"),
    "delete_booking_business": Operation("bookingBusiness_Delete"),
    "publish_booking_business": Operation("bookingBusiness_Publish"),
    "unpublish_booking_business": Operation("bookingBusiness_Unpublish"),
    "calendar_view": Operation("bookingBusiness_ListCalendarView", LIST),
    "get_staff_availability": Operation("bookingBusiness_GetStaffAvailability"),
    "list_appointments": Operation("bookingAppointment_List", LIST),
    "count_appointments": Operation("bookingAppointment_Count", COUNTING),
    "create_appointment": Operation("bookingAppointment_Create"),
    "get_appointment": Operation("bookingAppointment_Get", GET),
    "update_appointment": Operation("bookingAppointment_Update"),
    "delete_appointment": Operation("bookingAppointment_Delete"),
    "cancel_appointment": Operation("bookingAppointment_Cancel"),
    "available_slots": Operation("bookingService_ListAvailableSlots"),
    "slot_counts": Operation("bookingService_openvisit.slotCounts"),
    "create_calendar_feed": Operation("bookingStaffMember_openvisit.calendarFeed_Create"),
    "get_calendar_feed": Operation("bookingStaffMember_openvisit.calendarFeed_Get"),
    "revoke_calendar_feed": Operation("bookingStaffMember_openvisit.calendarFeed_Delete"),
    "list_service_documents": Operation("bookingService_openvisit.documents_List"),
    "add_service_document": Operation("bookingService_openvisit.documents_Create"),
    "get_service_document": Operation("bookingService_openvisit.documents_Get"),
    "delete_service_document": Operation("bookingService_openvisit.documents_Delete"),
    "download_service_document": Operation("bookingService_openvisit.documents_GetContent"),
    "list_appointment_documents": Operation("bookingAppointment_openvisit.documents_List"),
    "get_appointment_document": Operation("bookingAppointment_openvisit.documents_Get"),
    "download_appointment_document": Operation("bookingAppointment_openvisit.documents_GetContent"),
    "list_appointment_notifications": Operation("bookingAppointment_openvisit.notifications"),
    **_children("services", "bookingService"),
    **_children("staffMembers", "bookingStaffMember"),
    **_children("customers", "bookingCustomer"),
    **_children("customQuestions", "bookingCustomQuestion"),
    # Currencies page and select, but refuse $filter and $orderby (graph/currencies.py).
    "list_booking_currencies": Operation("bookingCurrency_List", (TOP, SKIP, COUNT, SELECT)),
    "get_booking_currency": Operation("bookingCurrency_Get", GET),
    "get_me": Operation("user_Get"),
    **_meetings("me"),
    **_meetings("user"),
    "send_batch": Operation("batch_Send"),
}

_OPTION_TEXT = {
    FILTER: "OData filter: eq ne gt ge lt le, and, or, not, startswith, endswith, contains.",
    ORDERBY: "Comma-separated properties, each optionally followed by asc or desc.",
    TOP: "Most items to return in all (0-1000), across pages.",
    SKIP: "Items to skip.",
    COUNT: "true adds @odata.count, the number of items matching $filter.",
    SELECT: "Comma-separated properties to return; id is always returned.",
}
_OPTION_SCHEMA: dict[str, dict[str, Any]] = {
    TOP: {"type": "integer", "minimum": 0, "maximum": 1000},
    SKIP: {"type": "integer", "minimum": 0},
    COUNT: {"type": "boolean"},
}


class RouteLike(Protocol):
    """What FastAPI hands the id function and what `api_routes` yields: an APIRoute, or
    FastAPI's view of one as included under a prefix."""

    name: str
    path_format: str
    methods: set[str]
    dependant: Dependant


def api_routes(app: FastAPI) -> Iterator[RouteLike]:
    """Every API route in the schema, with its full path (as get_openapi walks them)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield cast(RouteLike, context)


def operation_id(route: APIRoute) -> str:
    """FastAPI's generate_unique_id_function: Graph's name, `beta_` in front under /beta."""
    operation = OPERATIONS.get(route.name)
    name = operation.name if operation else route.name
    return f"beta_{name}" if route.path_format.startswith("/beta/") else name


class GraphInnerError(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(
        description="The reason: a stable name such as slotTaken or invalidFilter "
        "(docs/errors.md lists them all)."
    )
    request_id: str = Field(alias="request-id")
    date: str = Field(description="When the error happened, ISO 8601 UTC.")
    client_request_id: str | None = Field(
        default=None, alias="client-request-id", description="The caller's header, echoed."
    )


class GraphErrorDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(description="badRequest, InvalidAuthenticationToken, accessDenied, ...")
    message: str
    inner_error: GraphInnerError = Field(alias="innerError")


class GraphError(BaseModel):
    """Graph's error envelope; msgraph-sdk raises it as ODataError."""

    error: GraphErrorDetail


def install_openapi(app: FastAPI) -> None:
    """Serve the Graph-flavoured document at /openapi.json (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build_openapi(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = spec.setdefault("components", {})
    _add_error_schema(components)
    components["parameters"] = {
        f"odata_{option}": _option_parameter(option) for option in _OPTION_TEXT
    }
    for route in api_routes(app):
        for method in route.methods:
            _document(spec["paths"][route.path_format][method.lower()], route)
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    return spec


def _add_error_schema(components: dict[str, Any]) -> None:
    schema = GraphError.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}"
    )
    schemas = components.setdefault("schemas", {})
    schemas.update(schema.pop("$defs", {}))
    schemas["GraphError"] = schema


def _option_parameter(option: str) -> dict[str, Any]:
    return {
        "name": f"${option}",
        "in": "query",
        "required": False,
        "description": _OPTION_TEXT[option],
        "schema": _OPTION_SCHEMA.get(option, {"type": "string"}),
    }


def _document(operation: dict[str, Any], route: RouteLike) -> None:
    responses = operation.setdefault("responses", {})
    # Validation failures answer 400 in Graph's envelope (graph/errors.py), never 422.
    responses.pop("422", None)
    required = required_operation(route.dependant)
    if required is None:
        return  # health checks: no token, no Graph operation
    for status in _error_statuses(route):
        responses.setdefault(
            str(status),
            {
                "description": f"{GRAPH_CODES[status]}: Graph's error envelope",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/GraphError"}}
                },
            },
        )
    known = OPERATIONS.get(route.name)
    if known and known.options:
        parameters = operation.setdefault("parameters", [])
        parameters.extend(
            {"$ref": f"#/components/parameters/odata_{option}"} for option in known.options
        )
    scope = required.scope
    operation["security"] = [{BEARER: [] if scope is None else [scope]}]
    if scope is None:
        note = "Any valid token; each request inside is checked as if sent on its own."
    else:
        higher = ", ".join(f"`{name}`" for name in sorted(IMPLIED_BY.get(scope, ())))
        note = f"Least scope: `{scope}`" + (f"; also granted by {higher}." if higher else ".")
    operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()


def _error_statuses(route: RouteLike) -> Iterator[int]:
    for status in DOCUMENTED_ERRORS:
        if status == 409 and route.methods <= {"GET"}:
            continue  # reads never conflict
        yield status


def required_operation(dependant: Dependant) -> AccessOperation | None:
    """The operation a route's `Require` dependency checks, wherever it sits in the tree."""
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Require):
            return dependency.call.operation
        found = required_operation(dependency)
        if found is not None:
            return found
    return None
