"""GET .../appointments/{id}/openvisit.notifications: the delivery log, for staff."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from openvisit.notify.transports.base import TransientFailure
from tests.notify.support import Recording, dispatcher, due_now, make_visit

BUSINESSES = "/v1.0/solutions/bookingBusinesses"


def _path(visit, root=BUSINESSES) -> str:
    return f"{root}/{visit.business_id}/appointments/{visit.appointment_id}/openvisit.notifications"


def test_the_log_lists_each_message_with_its_state_and_steps(runtime, clock, client, auth):
    visit = make_visit(runtime)
    [sent] = due_now(runtime, visit, kind="confirmation", key="k-confirmation")
    [later] = due_now(
        runtime,
        visit,
        due_at=visit.start - timedelta(hours=2),
        expires_at=visit.start,
        key="k-reminder",
    )
    asyncio.run(dispatcher(runtime.db, clock, worker_id="w1").run_once())

    response = client.get(_path(visit), headers=auth)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"] == (
        f"http://testserver/v1.0/$metadata#solutions/bookingBusinesses('{visit.business_id}')"
        f"/appointments('{visit.appointment_id}')/openvisit.notifications"
    )
    first, second = body["value"]
    assert first == {
        "id": sent,
        "kind": "confirmation",
        "channel": "email",
        "audience": "customer",
        "recipient": "ann@example.test",
        "status": "sent",
        "dueDateTime": "2026-11-23T13:59:00Z",
        "expiryDateTime": None,
        "sentDateTime": "2026-11-23T14:00:00Z",
        "attempts": 1,
        "lastError": None,
        "events": [
            {
                "dateTime": "2026-11-23T14:00:00Z",
                "event": "queued",
                "detail": "due 2026-11-23T13:59:00+00:00",
                "worker": None,
            },
            {
                "dateTime": "2026-11-23T14:00:00Z",
                "event": "claimed",
                "detail": "attempt 1",
                "worker": "w1",
            },
            {
                "dateTime": "2026-11-23T14:00:00Z",
                "event": "sent",
                "detail": "rec-1",
                "worker": "w1",
            },
        ],
    }
    assert (second["id"], second["kind"], second["status"]) == (later, "reminder", "pending")
    assert (second["dueDateTime"], second["expiryDateTime"]) == (
        "2026-11-24T12:00:00Z",
        "2026-11-24T14:00:00Z",
    )
    assert [event["event"] for event in second["events"]] == ["queued"]


def test_a_retry_shows_its_reason_under_beta_too(runtime, clock, client, auth):
    visit = make_visit(runtime)
    due_now(runtime, visit)

    async def refuse(_key, _call):
        raise TransientFailure("421 try again later")

    asyncio.run(dispatcher(runtime.db, clock, Recording(refuse)).run_once())

    for root in ("/beta/solutions/bookingBusinesses", "/beta/bookingbusinesses"):
        path = _path(visit, root).replace("openvisit.notifications", "OpenVisit.Notifications")
        [item] = client.get(path, headers=auth).json()["value"]
        assert (item["status"], item["attempts"], item["lastError"]) == (
            "pending",
            1,
            "421 try again later",
        )
        assert item["events"][-1]["event"] == "retrying"


def test_an_unknown_appointment_answers_404(runtime, client, auth):
    visit = make_visit(runtime)
    path = f"{BUSINESSES}/{visit.business_id}/appointments/nope/openvisit.notifications"

    response = client.get(path, headers=auth)

    assert response.status_code == 404
    assert response.json()["error"]["innerError"]["code"] == "recordNotFound"


def test_reading_the_log_needs_a_read_scope(runtime, client, make_token):
    visit = make_visit(runtime)
    token = make_token("User.Read")

    response = client.get(_path(visit), headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert response.json()["error"]["innerError"]["code"] == "scopeMissing"
