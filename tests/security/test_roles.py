"""Bookings' staff roles on every operation, driven from one table (MATRIX).

MATRIX is what docs/auth.md shows (checked below) and what auth/access.py must grant; the
HTTP test then asks, as each role, for every operation in one seeded clinic per backend
and checks yes -> 2xx, own -> 2xx on the caller's own things and 404/403 on another's,
no -> 403; and that a business the caller is no member of answers 404 throughout.
"""

# ruff: noqa: ARG005 - every CALLS entry takes (clinic, role, whose), used or not
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openvisit.auth import access
from openvisit.auth.tokens import create_token
from openvisit.auth.users import find_user_by_email
from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.bookings.authority import Authority
from openvisit.bookings.records import update_record
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.meetings import online_meetings
from openvisit.meetings.online_meetings import MeetingChanges
from openvisit.meetings.staff_users import create_user
from tests.conftest import ALL_SCOPES
from tests.factories import BUSINESSES, make_business, make_service, make_staff

ROLES = ("administrator", "scheduler", "teamMember", "viewer", "externalGuest")
# operation -> what each role in ROLES may do: yes (all of the business), own, no.
MATRIX = {
    "business.list": "yes yes yes yes yes",
    "business.create": "no no no no no",
    "business.read": "yes yes yes yes yes",
    "business.update": "yes no no no no",
    "business.delete": "yes no no no no",
    "business.publish": "yes no no no no",
    "service.read": "yes yes yes yes no",
    "service.write": "yes no no no no",
    "staff.read": "yes yes yes yes no",
    "staff.write": "yes no no no no",
    "staff.update": "yes no own no no",
    "customer.read": "yes yes no yes no",
    "customer.write": "yes yes no no no",
    "question.read": "yes yes yes yes no",
    "question.write": "yes no no no no",
    "appointment.read": "yes yes own yes own",
    "appointment.write": "yes yes own no no",
    "serviceDocument.read": "yes yes yes yes no",
    "serviceDocument.write": "yes yes no no no",
    "appointmentDocument.read": "yes yes own yes own",
    "notification.read": "yes yes own yes own",
    "availability.read": "yes yes yes yes no",
    "calendarFeed.manage": "yes yes own no no",
    "currency.read": "yes yes yes yes yes",
    "me.read": "yes yes yes yes yes",
    # A user's own online meetings: no business, so every role (tests/graph/...meetings).
    "onlineMeeting.read": "yes yes yes yes yes",
    "onlineMeeting.write": "yes yes yes yes yes",
    "onlineMeeting.joinUrl": "yes yes yes yes yes",
    "onlineMeeting.sms": "yes yes yes yes yes",
    "onlineMeeting.attendance": "yes yes yes yes yes",
    "batch.send": "yes yes yes yes yes",
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
HOURS = [
    {"day": day, "timeSlots": [{"startTime": "08:00:00", "endTime": "18:00:00"}]}
    for day in WEEKDAYS
]
POLICY = {"timeSlotInterval": "PT30M", "minimumLeadTime": "PT0S", "maximumAdvance": "P60D"}
FIRST_SLOT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # Tuesday 09:00 in New York


def grants_of(table: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: dict(zip(ROLES, marks.split(), strict=True)) for name, marks in table.items()}


def test_the_code_grants_what_the_table_says():
    marks = {"all": "yes", "own": "own"}
    code = {
        op.name: {role: marks[op.grants[role]] if role in op.grants else "no" for role in ROLES}
        for op in access.OPERATIONS
    }
    assert access.ROLES == ROLES
    assert code == grants_of(MATRIX)


def test_the_docs_show_the_table():
    page = (Path(__file__).parents[2] / "docs" / "auth.md").read_text(encoding="utf-8")
    assert access.matrix_markdown() in page


class Clinic:
    """One business with a staff member (and user, token, appointment) per role."""

    def __init__(self, runtime: Any, client: Any) -> None:
        self.runtime, self.client = runtime, client
        self.slots: Iterator[datetime] = (
            FIRST_SLOT + timedelta(days=day, minutes=30 * half)
            for day, half in itertools.product((0, 1, 2, 3, 7, 8, 9, 10), range(16))
        )
        self.business = self.make_business("Contoso Health")
        self.other_staff = make_staff(self.runtime, self.business, "Dr. Ann")
        self.staff = {
            role: make_staff(
                runtime,
                self.business,
                f"Staff {role}",
                role=role,
                email_address=f"{role}@Example.test",
            )
            for role in ROLES
        }
        self.service = make_service(
            runtime,
            self.business,
            staff_member_ids=[self.other_staff, *self.staff.values()],
        )
        self.tokens = {role: self.user_token(f"{role}@example.test", "viewer") for role in ROLES}
        self.own = {role: self.appointment(self.business, self.staff[role]) for role in ROLES}
        self.foreign = self.make_business("Fabrikam")
        self.foreign_staff = make_staff(runtime, self.foreign, "Dr. Fab")
        foreign_service = make_service(runtime, self.foreign, staff_member_ids=[self.foreign_staff])
        self.foreign_appointment = self.appointment(
            self.foreign, self.foreign_staff, service=foreign_service
        )

    def make_business(self, name: str) -> str:
        return make_business(
            self.runtime,
            name,
            business_hours=HOURS,
            scheduling_policy=POLICY,
            booking_page_settings={"businessTimeZone": "America/New_York"},
        )

    def user_token(self, email: str, role: str) -> str:
        create_user(self.runtime.db, self.runtime.clock, email=email, role=role, password=None)
        _info, secret = create_token(
            self.runtime.db, self.runtime.clock, name=email, scopes=ALL_SCOPES, user_email=email
        )
        return secret

    def appointment(self, business: str, staff: str, service: str | None = None) -> str:
        request = AppointmentRequest(
            service_id=service or self.service, start=next(self.slots), staff_ids=(staff,)
        )
        return book(
            self.runtime.db, self.runtime.clock, business, request, authority=Authority("test")
        ).id

    def request(self, role: str, method: str, path: str, json: Any = None) -> Any:
        url = path if path.startswith("/v1.0/") else f"{BUSINESSES}/{path}".rstrip("/")
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.request(method, url, json=json, headers=headers)


# A call: (method, path under /solutions/bookingBusinesses or absolute, body).
Call = tuple[str, str, Any]


def _fresh_business(clinic: Clinic, role: str) -> str:
    business = clinic.make_business(f"Spare {role}")
    make_staff(clinic.runtime, business, "Spare", role=role, email_address=f"{role}@example.test")
    return business


def _meeting(clinic: Clinic, role: str) -> str:
    """An online meeting the role's own user organises."""
    user = find_user_by_email(clinic.runtime.db, f"{role}@example.test")
    return online_meetings.create_meeting(
        clinic.runtime.db, clinic.runtime.clock, user.id, MeetingChanges(), actor="test"
    ).id


MEETINGS = "/v1.0/me/onlineMeetings"
# operation -> (clinic, role, whose) -> call; whose is "any" (someone else's where it
# matters, to prove "all"), or "own".
CALLS: dict[str, Callable[[Clinic, str, str], Call]] = {
    "business.list": lambda c, r, w: ("GET", "", None),
    "business.create": lambda c, r, w: ("POST", "", {"displayName": f"New {r}"}),
    "business.read": lambda c, r, w: ("GET", c.business, None),
    "business.update": lambda c, r, w: ("PATCH", c.business, {"phone": "+1 206 555 0100"}),
    "business.delete": lambda c, r, w: ("DELETE", _fresh_business(c, r), None),
    "business.publish": lambda c, r, w: ("POST", f"{c.business}/publish", None),
    "service.read": lambda c, r, w: ("GET", f"{c.business}/services", None),
    "service.write": lambda c, r, w: ("POST", f"{c.business}/services", {"displayName": r}),
    "staff.read": lambda c, r, w: ("GET", f"{c.business}/staffMembers", None),
    "staff.write": lambda c, r, w: (
        "POST",
        f"{c.business}/staffMembers",
        {"displayName": "New", "emailAddress": f"new-{r}@example.test", "role": "viewer"},
    ),
    "staff.update": lambda c, r, w: (
        "PATCH",
        f"{c.business}/staffMembers/{c.staff[r] if w == 'own' else c.other_staff}",
        {"timeZone": "America/Chicago", "useBusinessHours": True},
    ),
    "customer.read": lambda c, r, w: ("GET", f"{c.business}/customers", None),
    "customer.write": lambda c, r, w: ("POST", f"{c.business}/customers", {"displayName": r}),
    "question.read": lambda c, r, w: ("GET", f"{c.business}/customQuestions", None),
    "question.write": lambda c, r, w: ("POST", f"{c.business}/customQuestions", {"displayName": r}),
    "appointment.read": lambda c, r, w: (
        "GET",
        f"{c.business}/appointments/{c.own[r] if w == 'own' else c.own['administrator']}",
        None,
    ),
    "appointment.write": lambda c, r, w: (
        "POST",
        f"{c.business}/appointments/"
        f"{c.appointment(c.business, c.staff[r] if w == 'own' else c.other_staff)}/cancel",
        {"cancellationMessage": "moved"},
    ),
    "serviceDocument.read": lambda c, r, w: (
        "GET",
        f"{c.business}/services/{c.service}/openvisit.documents",
        None,
    ),
    "serviceDocument.write": lambda c, r, w: (
        "POST",
        f"{c.business}/services/{c.service}/openvisit.documents",
        {"displayName": f"Form for {r}", "webUrl": "https://example.test/form"},
    ),
    "appointmentDocument.read": lambda c, r, w: (
        "GET",
        f"{c.business}/appointments/"
        f"{c.own[r] if w == 'own' else c.own['administrator']}/openvisit.documents",
        None,
    ),
    "notification.read": lambda c, r, w: (
        "GET",
        f"{c.business}/appointments/"
        f"{c.own[r] if w == 'own' else c.own['administrator']}/openvisit.notifications",
        None,
    ),
    "availability.read": lambda c, r, w: (
        "GET",
        f"{c.business}/services/{c.service}/availableSlots?start=2026-11-24&end=2026-11-24",
        None,
    ),
    "calendarFeed.manage": lambda c, r, w: (
        "POST",
        f"{c.business}/staffMembers/{c.staff[r] if w == 'own' else c.other_staff}"
        "/openvisit.calendarFeed",
        None,
    ),
    "currency.read": lambda c, r, w: ("GET", "/v1.0/solutions/bookingCurrencies/USD", None),
    "me.read": lambda c, r, w: ("GET", "/v1.0/me", None),
    "onlineMeeting.read": lambda c, r, w: ("GET", MEETINGS, None),
    "onlineMeeting.write": lambda c, r, w: ("POST", MEETINGS, {"subject": r}),
    "onlineMeeting.joinUrl": lambda c, r, w: (
        "GET",
        f"{MEETINGS}/{_meeting(c, r)}/getVirtualAppointmentJoinWebUrl",
        None,
    ),
    "onlineMeeting.sms": lambda c, r, w: (
        "POST",
        f"{MEETINGS}/{_meeting(c, r)}/sendVirtualAppointmentSms",
        {"attendees": [{"phoneNumber": "+12065550100"}], "messageType": "confirmation"},
    ),
    "onlineMeeting.attendance": lambda c, r, w: (
        "GET",
        f"{MEETINGS}/{_meeting(c, r)}/attendanceReports",
        None,
    ),
    # Any token may send a batch; what is inside is checked request by request.
    "batch.send": lambda c, r, w: (
        "POST",
        "/v1.0/$batch",
        {"requests": [{"id": "1", "method": "GET", "url": "/me"}]},
    ),
}


def test_every_role_may_do_what_the_table_says_and_nothing_more(runtime, client):
    clinic = Clinic(runtime, client)
    assert set(CALLS) == set(MATRIX)
    wrong = []
    for (name, row), role in itertools.product(grants_of(MATRIX).items(), ROLES):
        mark = row[role]
        whose = "own" if mark == "own" else "any"
        response = clinic.request(role, *CALLS[name](clinic, role, whose))
        allowed = mark != "no"
        if (response.status_code < 300) != allowed or (
            not allowed and response.json()["error"]["code"] != "accessDenied"
        ):
            wrong.append((name, role, mark, response.status_code, response.text[:120]))
        if mark == "own":  # someone else's thing is out of reach
            other = clinic.request(role, *CALLS[name](clinic, role, "any"))
            if other.status_code not in (403, 404):
                wrong.append((name, role, "other's", other.status_code, other.text[:120]))
    assert wrong == []


def test_own_means_own_in_lists_and_bookings(runtime, client):
    clinic = Clinic(runtime, client)
    for role in ("teamMember", "externalGuest"):
        listed = clinic.request(role, "GET", f"{clinic.business}/appointments").json()["value"]
        assert [item["id"] for item in listed] == [clinic.own[role]]
        count = clinic.request(role, "GET", f"{clinic.business}/appointments/$count")
        assert count.text == "1"
    visit = {
        "serviceId": clinic.service,
        "startDateTime": {"dateTime": "2026-11-30T15:00:00", "timeZone": "UTC"},
    }
    booked = clinic.request("teamMember", "POST", f"{clinic.business}/appointments", visit)
    assert booked.status_code == 201, booked.text
    assert booked.json()["staffMemberIds"] == [clinic.staff["teamMember"]]
    for_ann = {**visit, "staffMemberIds": [clinic.other_staff]}
    refused = clinic.request("teamMember", "POST", f"{clinic.business}/appointments", for_ann)
    assert refused.status_code == 403
    own_role = clinic.request(
        "teamMember",
        "PATCH",
        f"{clinic.business}/staffMembers/{clinic.staff['teamMember']}",
        {"role": "administrator"},
    )
    assert own_role.status_code == 403


def test_another_business_is_not_there_for_its_non_members(runtime, client):
    clinic = Clinic(runtime, client)
    foreign, appointment = clinic.foreign, clinic.foreign_appointment
    calls = [
        ("GET", foreign, None),
        ("PATCH", foreign, {"displayName": "Mine now"}),
        ("POST", f"{foreign}/unpublish", None),
        ("GET", f"{foreign}/services", None),
        ("GET", f"{foreign}/appointments/{appointment}", None),
        ("GET", f"{foreign}/appointments/{appointment}/openvisit.notifications", None),
        ("POST", f"{foreign}/appointments/{appointment}/cancel", None),
        ("DELETE", foreign, None),
    ]
    for role, call in itertools.product(ROLES, calls):
        response = clinic.request(role, *call)
        assert response.status_code == 404, (role, call, response.text)
        assert response.json()["error"]["message"] == (
            f"The booking business '{foreign}' does not exist."
        )
    for role in ROLES:
        listed = clinic.request(role, "GET", "").json()["value"]
        assert [item["id"] for item in listed] == [clinic.business]
        assert clinic.request(role, "GET", "$count").text == "1"


def test_a_server_administrator_runs_every_business(runtime, client):
    clinic = Clinic(runtime, client)
    clinic.tokens["root"] = clinic.user_token("root@example.test", "administrator")

    created = clinic.request("root", "POST", "", {"displayName": "Northwind"})
    renamed = clinic.request("root", "PATCH", clinic.foreign, {"displayName": "Fabrikam Two"})
    listed = clinic.request("root", "GET", "").json()["value"]

    assert created.status_code == 201, created.text
    assert renamed.status_code == 204
    assert len(listed) == 3


def test_leaving_a_business_or_being_a_guest_takes_access_away_at_once(runtime, client):
    clinic = Clinic(runtime, client)
    url = f"{clinic.business}/appointments"
    assert clinic.request("scheduler", "GET", url).status_code == 200

    update_record(
        runtime.db,
        runtime.clock,
        STAFF_MEMBERS,
        clinic.business,
        clinic.staff["scheduler"],
        {"membership_status": "pendingAcceptance"},
        actor="test",
    )
    clinic.tokens["guest"] = clinic.user_token("guest@example.test", "viewer")
    make_staff(
        runtime, clinic.business, "A Guest", role="guest", email_address="guest@example.test"
    )

    assert clinic.request("scheduler", "GET", url).status_code == 404
    assert clinic.request("guest", "GET", url).status_code == 404


def test_a_viewer_can_no_longer_rename_unpublish_delete_or_cancel(runtime, client):
    """The report that opened the issue, as it was reproduced."""
    clinic = Clinic(runtime, client)
    business = clinic.business
    calls = [
        ("PATCH", business, {"displayName": "Renamed"}),
        ("POST", f"{business}/unpublish", None),
        ("POST", f"{business}/appointments/{clinic.own['viewer']}/cancel", None),
        ("DELETE", business, None),
    ]
    for call in calls:
        assert clinic.request("viewer", *call).status_code == 403, call
    assert clinic.request("viewer", "GET", business).json()["displayName"] == "Contoso Health"
