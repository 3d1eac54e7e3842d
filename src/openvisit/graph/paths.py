"""Normalize request paths the way Graph matches them, before routing.

- Known segment names match case-insensitively (`bookingbusinesses`, `staffmembers`).
- Older beta docs omit `/solutions`: `/beta/bookingBusinesses` is the same resource.
- Functions may be called with or without `()`.
- `/users/me-token-to-replace` is `/me`: msgraph-sdk builds `client.me` on that
  placeholder and relies on a client middleware to rewrite it, which not every client
  set-up installs.
- A trailing slash is dropped: Graph and its docs use such URLs, and the redirect
  FastAPI would answer breaks clients that do not follow redirects for POST.
Ids are never rewritten: a segment right after a collection is left as sent.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

VERSIONS = ("v1.0", "beta")
COLLECTIONS = (
    "bookingBusinesses",
    "services",
    "staffMembers",
    "customers",
    "customQuestions",
    "bookingCurrencies",
    "appointments",
    "calendarView",
    "onlineMeetings",
    "attendanceReports",
    "attendanceRecords",
    "users",
    "openvisit.documents",
)
ACTIONS = (
    "solutions",
    "publish",
    "unpublish",
    "me",
    "cancel",
    "getStaffAvailability",
    "availableSlots",
    "openvisit.slotCounts",
    "openvisit.calendarFeed",
    "openvisit.notifications",
    "createOrGet",
    "getVirtualAppointmentJoinWebUrl",
    "sendVirtualAppointmentSms",
    "sendVirtualAppointmentReminderSms",
    "virtualAppointment",
    "$batch",
    "$value",
)
_CANONICAL = {name.lower(): name for name in (*VERSIONS, *COLLECTIONS, *ACTIONS)}
_SOLUTION_SETS = ("bookingBusinesses", "bookingCurrencies")
SDK_ME_PLACEHOLDER = "me-token-to-replace"


def normalize_path(path: str) -> str:
    segments = path.split("/")
    if len(segments) > 3 and segments[-1] == "":
        segments.pop()
    if len(segments) < 3 or segments[1].lower() not in VERSIONS:
        return path
    out: list[str] = []
    for index, raw in enumerate(segments):
        previous = out[-1] if out else ""
        is_key = previous in COLLECTIONS and index > 2
        segment = raw[:-2] if raw.endswith("()") and not is_key else raw
        if not is_key:
            segment = _CANONICAL.get(segment.lower(), segment)
        out.append(segment)
    if len(out) > 2 and out[2] in _SOLUTION_SETS:
        out.insert(2, "solutions")
    if len(out) > 3 and out[2] == "users" and out[3] == SDK_ME_PLACEHOLDER:
        out[2:4] = ["me"]
    return "/".join(out)


class GraphPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = normalize_path(scope["path"])
            if path != scope["path"]:
                scope = {**scope, "path": path}
        await self.app(scope, receive, send)
