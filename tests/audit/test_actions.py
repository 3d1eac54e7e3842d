"""Every action of audit/actions.py leaves one row saying who did what to which record.

SCENARIOS holds, per action, a function that performs it the way a user or operator does
(the REST API with an application token, the sign-in page, the account services behind
the CLI) and returns the row that must follow. An action added to the table without a
scenario fails `test_every_action_has_a_scenario`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openvisit.audit.actions import Action
from openvisit.auth import accounts, sessions
from openvisit.auth.throttle import ACCOUNT_POLICY, account_digest
from openvisit.auth.tokens import create_token, revoke_token
from openvisit.bookings.appointments import get_appointment
from openvisit.bookings.manage_links import manage_token_for
from openvisit.clock import FixedClock
from openvisit.meetings import visits
from openvisit.meetings.access import check_join_link
from openvisit.runtime import Runtime
from openvisit.store.models import AuditRecord
from tests.bookings import sample_files
from tests.bookings.clinic import Clinic, make_clinic
from tests.conftest import ALL_SCOPES
from tests.factories import BUSINESSES, make_customer, make_question, make_service, make_staff
from tests.security.test_throttle import fail_until_locked
from tests.visits import Visit, enter, make_visit
from tests.web.test_sign_in import EMAIL, PASSWORD, csrf_from, make_admin, submit_login

BROWSER_ADDRESS = "203.0.113.7"
TUESDAY_10 = {"dateTime": "2026-11-24T15:00:00Z", "timeZone": "UTC"}  # 10:00 in New York
TUESDAY_11 = {"dateTime": "2026-11-24T16:00:00Z", "timeZone": "UTC"}
SATURDAY_10 = {"dateTime": "2026-11-28T15:00:00Z", "timeZone": "UTC"}  # the clinic is closed
OVERRIDE = {"Prefer": "openvisit.override-booking-rules"}


@dataclass(frozen=True)
class Row:
    """What the audit row must say; `data` lists the key data (the row may carry more)."""

    actor: str
    subject: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class World:
    runtime: Runtime
    api: TestClient  # sends an application token with every scope
    actor: str  # that token, as the audit log names it
    browser: TestClient
    clinic: Clinic
    clock: FixedClock  # the runtime's, which the sign-in throttle waits out

    @property
    def business(self) -> str:
        return self.clinic["business"]

    def url(self, path: str = "") -> str:
        return f"{BUSINESSES}/{self.business}{path}"

    def call(self, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
        response = self.api.request(method, self.url(path), **kwargs)
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    def book(self, start: Mapping[str, str] = TUESDAY_10, **kwargs: Any) -> str:
        body = {
            "serviceId": self.clinic["visit"],
            "startDateTime": start,
            "staffMemberIds": [self.clinic["ann"]],
        }
        booked = self.call("POST", "/appointments", 201, json=body, **kwargs)
        return str(booked["id"])


@pytest.fixture
def world(app: FastAPI, runtime: Runtime, clock: FixedClock) -> World:
    info, secret = create_token(runtime.db, runtime.clock, name="audit", scopes=ALL_SCOPES)
    return World(
        runtime=runtime,
        api=TestClient(app, headers={"Authorization": f"Bearer {secret}"}),
        actor=f"token:{info.id}",
        browser=TestClient(app, follow_redirects=False, client=(BROWSER_ADDRESS, 40000)),
        clinic=make_clinic(runtime),
        clock=clock,
    )


# --- staff accounts, through the services the CLI calls -------------------------------


def user_created(world: World) -> Row:
    user = make_admin(world.runtime)
    return Row("cli", user.id, {"role": "administrator"})


def user_password_changed(world: World) -> Row:
    user = make_admin(world.runtime)
    accounts.set_password(world.runtime.db, world.runtime.clock, EMAIL, "another long password")
    return Row("cli", user.id, {"sessionsRevoked": 0})


def user_disabled(world: World) -> Row:
    user = make_admin(world.runtime)
    assert submit_login(world.browser).status_code == 303
    accounts.disable_user(world.runtime.db, world.runtime.clock, EMAIL)
    return Row("cli", user.id, {"sessionsRevoked": 1, "tokensRevoked": 0})


# --- sign-in sessions, through the sign-in page ---------------------------------------


def session_signed_in(world: World) -> Row:
    user = make_admin(world.runtime)
    assert submit_login(world.browser).status_code == 303
    [live] = sessions.list_sessions(world.runtime.db, world.runtime.clock)
    return Row(f"user:{user.id}", user.id, {"sessionId": live.id, "address": BROWSER_ADDRESS})


def session_signed_out(world: World) -> Row:
    user = make_admin(world.runtime)
    assert submit_login(world.browser).status_code == 303
    [live] = sessions.list_sessions(world.runtime.db, world.runtime.clock)
    token = csrf_from(world.browser.get("/staff"))
    assert world.browser.post("/logout", data={"csrf_token": token}).status_code == 303
    return Row(f"user:{user.id}", user.id, {"sessionId": live.id, "address": BROWSER_ADDRESS})


def session_sign_in_failed(world: World) -> Row:
    user = make_admin(world.runtime)
    assert submit_login(world.browser, password="not " + PASSWORD).status_code == 401
    digest = account_digest(world.runtime.secret_key, EMAIL)
    return Row("anonymous", user.id, {"userId": user.id, "emailDigest": digest})


def session_sign_in_locked(world: World) -> Row:
    make_admin(world.runtime)
    fail_until_locked(world.browser, world.clock, ACCOUNT_POLICY)
    key = f"account:{account_digest(world.runtime.secret_key, EMAIL)}"
    until = world.runtime.clock.now() + timedelta(seconds=ACCOUNT_POLICY.lock_seconds)
    return Row("system", key, {"key": key, "until": until.isoformat()})


def session_revoked(world: World) -> Row:
    user = make_admin(world.runtime)
    assert submit_login(world.browser).status_code == 303
    [live] = sessions.list_sessions(world.runtime.db, world.runtime.clock)
    sessions.revoke_session(world.runtime.db, world.runtime.clock, live.id)
    return Row("cli", user.id, {"sessionId": live.id})


# --- API tokens -----------------------------------------------------------------------


def token_created(world: World) -> Row:
    info, _secret = create_token(
        world.runtime.db, world.runtime.clock, name="nightly export", scopes="Bookings.Read.All"
    )
    return Row("cli", info.id, {"scopes": ["Bookings.Read.All"], "userId": None})


def token_revoked(world: World) -> Row:
    info, _secret = create_token(
        world.runtime.db, world.runtime.clock, name="old", scopes="Bookings.Read.All"
    )
    revoke_token(world.runtime.db, world.runtime.clock, info.id)
    return Row("cli", info.id)


# --- businesses, through the REST API -------------------------------------------------


def business_created(world: World) -> Row:
    response = world.api.post(BUSINESSES, json={"displayName": "Fabrikam Dental"})
    assert response.status_code == 201, response.text
    return Row(world.actor, response.json()["id"])


def business_updated(world: World) -> Row:
    world.call("PATCH", "", 204, json={"phone": "+1 206 555 0100", "displayName": "Contoso"})
    return Row(world.actor, world.business, {"fields": ["display_name", "phone"]})


def business_deleted(world: World) -> Row:
    world.call("DELETE", "", 204)
    return Row(world.actor, world.business)


def business_published(world: World) -> Row:
    world.call("POST", "/publish", 204)
    return Row(world.actor, world.business)


def business_unpublished(world: World) -> Row:
    world.call("POST", "/unpublish", 204)
    return Row(world.actor, world.business)


# --- records inside a business --------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    collection: str
    make: Callable[[Runtime, str], str]  # a factory from tests/factories.py
    body: dict[str, Any]  # a valid create
    change: dict[str, Any]  # a valid PATCH ...
    fields: list[str]  # ... and the stored fields it names
    patch_status: int = 204  # customers and custom questions answer 200 with the entity


SERVICE = Kind(
    "/services",
    make_service,
    {"displayName": "Checkup"},
    {"description": "Bring your card."},
    ["description"],
)
STAFF_MEMBER = Kind(
    "/staffMembers",
    make_staff,
    {"displayName": "Dr. Eve", "emailAddress": "eve@example.test", "role": "viewer"},
    {"displayName": "Dr. Eve Osei"},
    ["display_name"],
)
CUSTOMER = Kind(
    "/customers",
    make_customer,
    {"displayName": "Jo Lee"},
    {"emailAddress": "jo@example.test"},
    ["email_address"],
    patch_status=200,
)
CUSTOM_QUESTION = Kind(
    "/customQuestions",
    make_question,
    {"displayName": "Why?", "answerInputType": "text"},
    {"displayName": "Allergies?"},
    ["display_name"],
    patch_status=200,
)


def record_created(kind: Kind) -> Callable[[World], Row]:
    def scenario(world: World) -> Row:
        created = world.call("POST", kind.collection, 201, json=kind.body)
        return Row(world.actor, created["id"], {"businessId": world.business})

    return scenario


def record_updated(kind: Kind) -> Callable[[World], Row]:
    def scenario(world: World) -> Row:
        record_id = kind.make(world.runtime, world.business)
        world.call("PATCH", f"{kind.collection}/{record_id}", kind.patch_status, json=kind.change)
        return Row(world.actor, record_id, {"businessId": world.business, "fields": kind.fields})

    return scenario


def record_deleted(kind: Kind) -> Callable[[World], Row]:
    def scenario(world: World) -> Row:
        record_id = kind.make(world.runtime, world.business)
        world.call("DELETE", f"{kind.collection}/{record_id}", 204)
        return Row(world.actor, record_id, {"businessId": world.business})

    return scenario


# --- appointments ---------------------------------------------------------------------


def appointment_booked(world: World) -> Row:
    booked = world.book()
    return Row(world.actor, booked, {"businessId": world.business, "staff": [world.clinic["ann"]]})


def appointment_updated(world: World) -> Row:
    booked = world.book()
    world.call("PATCH", f"/appointments/{booked}", 204, json={"serviceNotes": "Wheelchair"})
    return Row(world.actor, booked, {"businessId": world.business})


def appointment_rescheduled(world: World) -> Row:
    booked = world.book()
    world.call("PATCH", f"/appointments/{booked}", 204, json={"startDateTime": TUESDAY_11})
    return Row(world.actor, booked, {"businessId": world.business})


def appointment_cancelled(world: World) -> Row:
    booked = world.book()
    world.call("POST", f"/appointments/{booked}/cancel", 204, json={"cancellationMessage": "Ill"})
    return Row(world.actor, booked, {"businessId": world.business, "message": "Ill"})


def appointment_deleted(world: World) -> Row:
    booked = world.book()
    world.call("DELETE", f"/appointments/{booked}", 204)
    gone = {
        "businessId": world.business,
        "start": "2026-11-24T15:00:00+00:00",
        "staff": [world.clinic["ann"]],
        "status": "booked",
    }
    return Row(world.actor, booked, gone)


# --- online meetings, through /me/onlineMeetings with the first administrator as "me" ---

ME_MEETINGS = "/v1.0/me/onlineMeetings"


def _meeting(world: World) -> str:
    make_admin(world.runtime)
    made = world.api.post(ME_MEETINGS, json={"subject": "Visit"})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def meeting_created(world: World) -> Row:
    meeting = _meeting(world)
    return Row(world.actor, meeting, {"externalId": None})


def meeting_updated(world: World) -> Row:
    meeting = _meeting(world)
    changed = world.api.patch(f"{ME_MEETINGS}/{meeting}", json={"subject": "Intake"})
    assert changed.status_code == 200, changed.text
    return Row(world.actor, meeting, {"changed": ["subject"]})


def meeting_cancelled(world: World) -> Row:
    body = {
        "serviceId": world.clinic["visit"],
        "startDateTime": TUESDAY_10,
        "staffMemberIds": [world.clinic["ann"]],
        "isLocationOnline": True,
    }
    booked = world.call("POST", "/appointments", 201, json=body)
    meeting = str(booked["joinWebUrl"]).rsplit("/", 1)[1]
    world.call("POST", f"/appointments/{booked['id']}/cancel", 204, json={})
    return Row(world.actor, meeting, {"appointmentId": booked["id"]})


def meeting_deleted(world: World) -> Row:
    meeting = _meeting(world)
    assert world.api.delete(f"{ME_MEETINGS}/{meeting}").status_code == 204
    return Row(world.actor, meeting)


VIRTUAL = {"externalAppointmentId": "crm-1", "appointmentClients": [{"displayName": "Jo"}]}


def virtual_appointment_set(world: World) -> Row:
    meeting = _meeting(world)
    put = world.api.put(f"/beta/me/onlineMeetings/{meeting}/virtualAppointment", json=VIRTUAL)
    assert put.status_code == 201, put.text
    return Row(world.actor, meeting, {"externalAppointmentId": "crm-1", "clients": 1})


def virtual_appointment_deleted(world: World) -> Row:
    meeting = _meeting(world)
    path = f"/beta/me/onlineMeetings/{meeting}/virtualAppointment"
    assert world.api.put(path, json=VIRTUAL).status_code == 201
    assert world.api.delete(path).status_code == 204
    return Row(world.actor, meeting)


def meeting_sms_requested(world: World) -> Row:
    meeting = _meeting(world)
    info, secret = create_token(
        world.runtime.db,
        world.runtime.clock,
        name="sms",
        scopes="VirtualAppointmentNotification.Send",
    )
    sent = world.api.post(
        f"{ME_MEETINGS}/{meeting}/sendVirtualAppointmentSms",
        json={"attendees": [{"phoneNumber": "+12065550100"}], "messageType": "confirmation"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert sent.status_code == 202, sent.text
    return Row(f"token:{info.id}", meeting, {"kind": "meetingConfirmation", "queued": 1})


def appointment_rules_overridden(world: World) -> Row:
    booked = world.book(SATURDAY_10, headers=OVERRIDE)
    rules = ["Dr. Ann: it is outside working hours"]
    return Row(world.actor, booked, {"businessId": world.business, "rules": rules})


# --- staff members' calendar feeds ------------------------------------------------------


def _feed(world: World) -> str:
    return f"/staffMembers/{world.clinic['ann']}/openvisit.calendarFeed"


def calendar_feed_created(world: World) -> Row:
    made = world.call("POST", _feed(world), 201)
    return Row(world.actor, world.clinic["ann"], {"businessId": world.business, **_prefix(made)})


def calendar_feed_rotated(world: World) -> Row:
    world.call("POST", _feed(world), 201)
    made = world.call("POST", _feed(world), 201)
    return Row(world.actor, world.clinic["ann"], {"businessId": world.business, **_prefix(made)})


def calendar_feed_revoked(world: World) -> Row:
    made = world.call("POST", _feed(world), 201)
    world.call("DELETE", _feed(world), 204)
    return Row(world.actor, world.clinic["ann"], {"businessId": world.business, **_prefix(made)})


def _prefix(feed: dict[str, Any]) -> dict[str, Any]:
    return {"prefix": feed["prefix"]}


# --- documents before the visit ------------------------------------------------------


def document_added(world: World) -> Row:
    url = f"/services/{world.clinic['visit']}/openvisit.documents"
    files = {"file": ("intake.pdf", sample_files.pdf(), "application/pdf")}
    added = world.call("POST", url, 201, files=files)
    data = {
        "businessId": world.business,
        "serviceId": world.clinic["visit"],
        "kind": "file",
        "contentType": "application/pdf",
        "sha256": added["sha256"],
    }
    return Row(world.actor, str(added["id"]), data)


def document_uploaded(world: World) -> Row:
    booked = world.book()
    appointment = get_appointment(world.runtime.db, world.business, booked)
    page = f"/manage/{manage_token_for(world.runtime.secret_key, appointment)}/documents"
    form = {"csrf_token": csrf_from(world.browser.get(page))}
    files = {"file": ("meds.txt", sample_files.text(), "text/plain")}
    assert world.browser.post(page, data=form, files=files).status_code == 303
    [uploaded] = world.call("GET", f"/appointments/{booked}/openvisit.documents", 200)["value"]
    data = {"businessId": world.business, "appointmentId": booked, "size": uploaded["size"]}
    return Row(f"manageLink:{booked}", str(uploaded["id"]), data)


def document_deleted(world: World) -> Row:
    url = f"/services/{world.clinic['visit']}/openvisit.documents"
    link = {"displayName": "Consent form", "webUrl": "https://example.test/consent"}
    added = world.call("POST", url, 201, json=link)
    world.call("DELETE", f"{url}/{added['id']}", 204)
    data = {"businessId": world.business, "kind": "link", "webUrl": link["webUrl"]}
    return Row(world.actor, str(added["id"]), data)


# --- the visit, through the services the WebSocket calls --------------------------------


def _waiting_consumer(world: World) -> tuple[Visit, str]:
    visit = make_visit(world.runtime, clinic=world.clinic)
    entrant = check_join_link(
        world.runtime.db,
        secret_key=world.runtime.secret_key,
        token=visit.consumer_token,
        now=world.clock.now(),
    )
    presence = enter(world.runtime, _no_events, entrant, "c_audit")
    return visit, presence.participant_id


def _no_events(channel: str, payload: str) -> None:
    del channel, payload


def meeting_participant_admitted(world: World) -> Row:
    visit, participant = _waiting_consumer(world)
    visits.admit(world.runtime.db, world.clock, _no_events, visit.provider, participant)
    return Row(f"user:{visit.provider.id}", visit.meeting_id, {"participantId": participant})


def meeting_participant_denied(world: World) -> Row:
    visit, participant = _waiting_consumer(world)
    visits.deny(world.runtime.db, world.clock, _no_events, visit.provider, participant)
    return Row(f"user:{visit.provider.id}", visit.meeting_id, {"role": "consumer"})


def meeting_ended(world: World) -> Row:
    visit, _participant = _waiting_consumer(world)
    visits.end(world.runtime.db, world.clock, _no_events, visit.provider, visit.meeting_id)
    return Row(f"user:{visit.provider.id}", visit.meeting_id)


def meeting_guest_invited(world: World) -> Row:
    visit = make_visit(world.runtime, clinic=world.clinic)
    url = visits.invite_guest(
        world.runtime.db,
        world.clock,
        world.runtime.secret_key,
        world.runtime.base_url,
        visit.provider,
        visit.meeting_id,
        "Interpreter",
    )
    assert url.startswith(f"{world.runtime.base_url}/join/")
    return Row(f"user:{visit.provider.id}", visit.meeting_id, {"displayName": "Interpreter"})


SCENARIOS: dict[Action, Callable[[World], Row]] = {
    Action.USER_CREATED: user_created,
    Action.USER_PASSWORD_CHANGED: user_password_changed,
    Action.USER_DISABLED: user_disabled,
    Action.SESSION_SIGNED_IN: session_signed_in,
    Action.SESSION_SIGNED_OUT: session_signed_out,
    Action.SESSION_SIGN_IN_FAILED: session_sign_in_failed,
    Action.SESSION_SIGN_IN_LOCKED: session_sign_in_locked,
    Action.SESSION_REVOKED: session_revoked,
    Action.TOKEN_CREATED: token_created,
    Action.TOKEN_REVOKED: token_revoked,
    Action.BUSINESS_CREATED: business_created,
    Action.BUSINESS_UPDATED: business_updated,
    Action.BUSINESS_DELETED: business_deleted,
    Action.BUSINESS_PUBLISHED: business_published,
    Action.BUSINESS_UNPUBLISHED: business_unpublished,
    Action.SERVICE_CREATED: record_created(SERVICE),
    Action.SERVICE_UPDATED: record_updated(SERVICE),
    Action.SERVICE_DELETED: record_deleted(SERVICE),
    Action.STAFF_MEMBER_CREATED: record_created(STAFF_MEMBER),
    Action.STAFF_MEMBER_UPDATED: record_updated(STAFF_MEMBER),
    Action.STAFF_MEMBER_DELETED: record_deleted(STAFF_MEMBER),
    Action.CUSTOMER_CREATED: record_created(CUSTOMER),
    Action.CUSTOMER_UPDATED: record_updated(CUSTOMER),
    Action.CUSTOMER_DELETED: record_deleted(CUSTOMER),
    Action.CUSTOM_QUESTION_CREATED: record_created(CUSTOM_QUESTION),
    Action.CUSTOM_QUESTION_UPDATED: record_updated(CUSTOM_QUESTION),
    Action.CUSTOM_QUESTION_DELETED: record_deleted(CUSTOM_QUESTION),
    Action.CALENDAR_FEED_CREATED: calendar_feed_created,
    Action.CALENDAR_FEED_ROTATED: calendar_feed_rotated,
    Action.CALENDAR_FEED_REVOKED: calendar_feed_revoked,
    Action.APPOINTMENT_BOOKED: appointment_booked,
    Action.APPOINTMENT_UPDATED: appointment_updated,
    Action.APPOINTMENT_RESCHEDULED: appointment_rescheduled,
    Action.APPOINTMENT_CANCELLED: appointment_cancelled,
    Action.APPOINTMENT_DELETED: appointment_deleted,
    Action.APPOINTMENT_RULES_OVERRIDDEN: appointment_rules_overridden,
    Action.MEETING_CREATED: meeting_created,
    Action.MEETING_UPDATED: meeting_updated,
    Action.MEETING_CANCELLED: meeting_cancelled,
    Action.MEETING_DELETED: meeting_deleted,
    Action.VIRTUAL_APPOINTMENT_SET: virtual_appointment_set,
    Action.VIRTUAL_APPOINTMENT_DELETED: virtual_appointment_deleted,
    Action.MEETING_SMS_REQUESTED: meeting_sms_requested,
    Action.DOCUMENT_ADDED: document_added,
    Action.DOCUMENT_UPLOADED: document_uploaded,
    Action.DOCUMENT_DELETED: document_deleted,
    Action.MEETING_PARTICIPANT_ADMITTED: meeting_participant_admitted,
    Action.MEETING_PARTICIPANT_DENIED: meeting_participant_denied,
    Action.MEETING_ENDED: meeting_ended,
    Action.MEETING_GUEST_INVITED: meeting_guest_invited,
}


def test_every_action_has_a_scenario():
    assert [action for action in Action if action not in SCENARIOS] == []


def _last_id(runtime: Runtime) -> int:
    with runtime.db.read() as session:
        return session.scalar(select(func.max(AuditRecord.id))) or 0


def _rows_since(runtime: Runtime, after: int, action: Action) -> list[AuditRecord]:
    with runtime.db.read() as session:
        query = select(AuditRecord).where(AuditRecord.id > after, AuditRecord.action == action)
        return list(session.scalars(query))


@pytest.mark.parametrize("action", list(Action), ids=[action.value for action in Action])
def test_the_action_leaves_one_row_naming_actor_subject_and_data(action, world):
    before = _last_id(world.runtime)

    expected = SCENARIOS[action](world)

    [row] = _rows_since(world.runtime, before, action)
    assert (row.actor, row.subject) == (expected.actor, expected.subject)
    assert {key: row.data.get(key) for key in expected.data} == dict(expected.data)
    assert row.at == world.runtime.clock.now()
