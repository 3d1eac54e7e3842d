"""A provider's staff user created while their online appointment is being booked, or
while the provider is given the user's e-mail, still organises its meeting on PostgreSQL
(the staff-time lock, the e-mail lock: see meetings/appointment_meetings.py).

The booking reads who its organizer is, and the user's creation looks for meetings to
adopt; the gate holds the booking open between its read and its commit, waiting for the
creation to look. With the lock the creation cannot look until the booking commits, so
the gate is never met and it finds the new meeting. The control twin turns the lock off:
the creation looks before the booking's meeting exists, the booking never saw the user,
and the meeting is left without an organizer. The e-mail change races the same way: each
side looks for the other before the other has committed. SQLite serializes write
transactions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from openvisit.bookings import records
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.meetings import appointment_meetings
from openvisit.runtime import Runtime
from tests.bookings.clinic import CONSUMER, book_at, make_clinic
from tests.concurrency.race import GATE_PATIENCE_SECONDS, guard_disabled, run_together
from tests.conftest import build_test_runtime
from tests.databases import PostgresDatabase, requested_backends
from tests.meetings.helpers import add_online_service, make_user

pytestmark = pytest.mark.parametrize(
    "backend", [name for name in requested_backends() if name == "postgresql"]
)


@pytest.fixture
def pg_runtime(backend: str, postgres_database: PostgresDatabase, clock: Any) -> Iterator[Runtime]:
    with postgres_database.database() as database:
        yield build_test_runtime(database, clock)


def book_while_creating(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> tuple[str | None, str, bool]:
    """(the meeting's organizer, the new user's id, whether the creation looked for
    meetings while the booking's transaction was open)."""
    clinic = make_clinic(runtime)
    add_online_service(runtime, clinic, ("ann",))
    read_organizer = threading.Event()
    looked = threading.Event()
    met: list[bool] = []
    organizer_for = appointment_meetings.organizer_for
    adopt = appointment_meetings.adopt_for_email

    def gated_organizer_for(*args: Any, **kwargs: Any) -> str | None:
        found = organizer_for(*args, **kwargs)
        read_organizer.set()
        met.append(looked.wait(GATE_PATIENCE_SECONDS))  # its transaction stays open meanwhile
        return found

    def gated_adopt(*args: Any, **kwargs: Any) -> int:
        read_organizer.wait(10)
        adopted = adopt(*args, **kwargs)
        looked.set()
        return adopted

    monkeypatch.setattr(appointment_meetings, "organizer_for", gated_organizer_for)
    monkeypatch.setattr(appointment_meetings, "adopt_for_email", gated_adopt)
    booked: list[str] = []
    created: list[str] = []

    def booking() -> None:
        booked.append(book_at(runtime, clinic, service="online", authority=CONSUMER).id)

    def creation() -> None:
        created.append(make_user(runtime, "ann@example.test", "Dr. Ann").id)

    run_together(booking, creation)
    with runtime.db.read() as session:
        meeting = appointment_meetings.meeting_of(session, booked[0])
    assert meeting is not None
    return meeting.organizer_user_id, created[0], met == [True]


def test_the_new_user_organises_the_meeting_booked_meanwhile(pg_runtime, monkeypatch):
    organizer, user_id, met = book_while_creating(pg_runtime, monkeypatch)
    assert not met  # the creation could not look while the booking was open
    assert organizer == user_id


def test_without_the_lock_the_meeting_is_left_without_organizer(pg_runtime, monkeypatch):
    with guard_disabled():
        organizer, _user_id, met = book_while_creating(pg_runtime, monkeypatch)
    assert met
    assert organizer is None


def give_email_while_creating(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> tuple[str | None, str, bool]:
    """Ann's meeting has no organizer (she signs in as annie@); her staff record is given
    that e-mail while the user annie@ is created. (organizer, user id, gate met)."""
    clinic = make_clinic(runtime)
    add_online_service(runtime, clinic, ("ann",))
    booked = book_at(runtime, clinic, service="online", authority=CONSUMER).id
    changed = threading.Event()
    looked = threading.Event()
    met: list[bool] = []
    adopt = appointment_meetings.adopt_for_email

    def gated_adopt(session: Any, email: str, **kwargs: Any) -> int:
        if not changed.is_set():  # the e-mail change: holds its transaction open
            adopted = adopt(session, email, **kwargs)
            changed.set()
            met.append(looked.wait(GATE_PATIENCE_SECONDS))
            return adopted
        adopted = adopt(session, email, **kwargs)  # the user's creation
        looked.set()
        return adopted

    monkeypatch.setattr(appointment_meetings, "adopt_for_email", gated_adopt)
    created: list[str] = []

    def change() -> None:
        records.update_record(
            runtime.db,
            runtime.clock,
            STAFF_MEMBERS,
            clinic["business"],
            clinic["ann"],
            {"email_address": "annie@example.test"},
            actor="test",
        )

    def creation() -> None:
        changed.wait(10)
        created.append(make_user(runtime, "annie@example.test", "Dr. Ann").id)

    run_together(change, creation)
    with runtime.db.read() as session:
        meeting = appointment_meetings.meeting_of(session, booked)
    assert meeting is not None
    return meeting.organizer_user_id, created[0], met == [True]


def test_the_new_user_organises_the_meetings_of_a_member_given_their_email(pg_runtime, monkeypatch):
    organizer, user_id, met = give_email_while_creating(pg_runtime, monkeypatch)
    assert not met  # the creation could not look while the change was open
    assert organizer == user_id


def test_without_the_email_lock_the_change_and_the_creation_miss_each_other(
    pg_runtime, monkeypatch
):
    with guard_disabled():
        organizer, _user_id, met = give_email_while_creating(pg_runtime, monkeypatch)
    assert met
    assert organizer is None
