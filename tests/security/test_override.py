"""Booking outside the rules takes an explicit, permitted, audited request."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from openvisit.runtime import Runtime
from openvisit.store.models import AuditRecord
from tests.security.test_roles import ROLES, Clinic

OVERRIDE = {"Prefer": "openvisit.override-booking-rules"}
SATURDAY = {"dateTime": "2026-11-28T15:00:00", "timeZone": "UTC"}


def _overrides(runtime: Runtime) -> list[tuple[str, str, list[str]]]:
    with runtime.db.read() as session:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "openvisit.appointment.rulesOverridden")
        ).all()
        return [(row.actor, row.subject, row.data["rules"]) for row in rows]


def test_only_administrators_and_schedulers_may_ask_to_override(runtime, client):
    clinic = Clinic(runtime, client)
    url = f"{clinic.business}/appointments"
    outcomes = {}
    for role in ROLES:
        visit = {
            "serviceId": clinic.service,
            "startDateTime": SATURDAY,
            "staffMemberIds": [clinic.staff[role]],
        }
        plain = clinic.request(role, "POST", url, visit)
        asked = clinic.client.post(
            f"/v1.0/solutions/bookingBusinesses/{url}",
            json=visit,
            headers={"Authorization": f"Bearer {clinic.tokens[role]}", **OVERRIDE},
        )
        outcomes[role] = (plain.status_code, asked.status_code)
        if asked.status_code == 201:
            assert asked.headers["Preference-Applied"] == "openvisit.override-booking-rules"

    assert outcomes == {
        "administrator": (409, 201),
        "scheduler": (409, 201),
        "teamMember": (409, 403),
        "viewer": (403, 403),
        "externalGuest": (403, 403),
    }
    audited = _overrides(runtime)
    assert len(audited) == 2
    for actor, _subject, rules in audited:
        assert actor.startswith("token:")
        assert rules == [rules[0]] and rules[0].endswith("it is outside working hours")


def test_an_override_never_double_books_and_covers_the_change_cutoff(runtime, client):
    clinic = Clinic(runtime, client)
    headers = {"Authorization": f"Bearer {clinic.tokens['scheduler']}", **OVERRIDE}
    base = f"/v1.0/solutions/bookingBusinesses/{clinic.business}/appointments"
    taken = client.get(f"{base}/{clinic.own['viewer']}", headers=headers).json()
    over = {
        "serviceId": clinic.service,
        "startDateTime": taken["startDateTime"],
        "staffMemberIds": taken["staffMemberIds"],
    }

    double = client.post(base, json=over, headers=headers)
    # The administrator's appointment starts on Tuesday 14:00Z; ten minutes in, only an
    # override may still cancel it.
    runtime.clock.advance(timedelta(days=1, minutes=10))
    plain = clinic.request(
        "scheduler", "POST", f"{clinic.business}/appointments/{clinic.own['administrator']}/cancel"
    )
    cancelled = client.post(f"{base}/{clinic.own['administrator']}/cancel", headers=headers)

    assert double.status_code == 409
    assert "already booked" in double.json()["error"]["message"]
    assert plain.status_code == 409
    assert cancelled.status_code == 204
    assert cancelled.headers["Preference-Applied"] == "openvisit.override-booking-rules"
    assert _overrides(runtime)[-1][1:] == (
        clinic.own["administrator"],
        ["it is changed once it has started"],
    )
