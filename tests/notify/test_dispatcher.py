"""The dispatcher sends what is due, once, and logs every step; failures back off."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete

from openvisit.notify.backoff import Backoff
from openvisit.notify.dispatcher import Dispatcher
from openvisit.notify.messages import Receipt
from openvisit.notify.transports.base import PermanentFailure, TransientFailure
from openvisit.store.models import Appointment
from tests.notify.support import (
    COMPOSE,
    Behaviour,
    Recording,
    dispatcher,
    due_now,
    events,
    insert_planned,
    make_visit,
    plan,
    row,
)


def test_a_due_row_is_sent_and_a_later_one_waits_for_its_time(runtime, clock):
    visit = make_visit(runtime)
    now = clock.now()
    early, later = insert_planned(
        runtime.db,
        visit,
        [
            plan(visit, due_at=now - timedelta(seconds=1), number=1),
            plan(visit, due_at=now + timedelta(hours=1), number=2),
        ],
        now,
    )
    transport = Recording()
    sender = dispatcher(runtime.db, clock, transport)

    assert asyncio.run(sender.run_once()) == 1
    assert row(runtime.db, early).status == "sent"
    assert row(runtime.db, later).status == "pending"

    clock.advance(timedelta(minutes=59, seconds=59))
    assert asyncio.run(sender.run_once()) == 0
    clock.advance(timedelta(seconds=1))
    assert asyncio.run(sender.run_once()) == 1
    assert row(runtime.db, later).status == "sent"
    assert transport.accepted == [
        row(runtime.db, early).idempotency_key,
        row(runtime.db, later).idempotency_key,
    ]


def test_a_sent_row_records_the_receipt_and_its_log(runtime, clock):
    visit = make_visit(runtime)
    [notification] = due_now(runtime, visit)

    asyncio.run(dispatcher(runtime.db, clock, worker_id="w1").run_once())

    sent = row(runtime.db, notification)
    assert (sent.status, sent.attempts, sent.sent_at, sent.provider_id) == (
        "sent",
        1,
        clock.now(),
        "rec-1",
    )
    assert (sent.claimed_by, sent.lease_expires_at, sent.last_error) == (None, None, None)
    assert [event[0] for event in events(runtime.db, notification)] == ["queued", "claimed", "sent"]
    assert events(runtime.db, notification)[1:] == [
        ("claimed", "attempt 1", "w1"),
        ("sent", "rec-1", "w1"),
    ]


def test_the_run_sends_email_and_sms_through_their_own_transports(runtime, clock):
    visit = make_visit(runtime)
    [mail] = due_now(runtime, visit, channel="email")
    [text] = due_now(runtime, visit, channel="sms", kind="confirmation")
    email, sms = Recording(), Recording()
    sender = Dispatcher(runtime.db, clock, email, sms, COMPOSE, worker_id="w")
    asyncio.run(sender.run_once())

    assert email.accepted == [row(runtime.db, mail).idempotency_key]
    assert sms.accepted == [row(runtime.db, text).idempotency_key]


def _always(failure: Exception) -> Behaviour:
    async def behaviour(_key: str, _call: int) -> Receipt:
        raise failure

    return behaviour


def test_transient_failures_back_off_exponentially_up_to_the_cap_then_fail(runtime, clock):
    visit = make_visit(runtime, clock.now() + timedelta(days=3))
    [notification] = due_now(runtime, visit)
    transport = Recording(_always(TransientFailure("connection refused")))
    sender = dispatcher(
        runtime.db,
        clock,
        transport,
        max_attempts=5,
        backoff=Backoff(first=timedelta(minutes=1), cap=timedelta(minutes=4)),
    )

    first_attempt = clock.now()
    waits = []
    for _attempt in range(4):
        assert asyncio.run(sender.run_once()) == 1
        pending = row(runtime.db, notification)
        assert pending.status == "pending"
        assert pending.last_error == "connection refused"
        wait = pending.available_at - clock.now()
        waits.append(wait)
        clock.advance(wait - timedelta(seconds=1))
        assert asyncio.run(sender.run_once()) == 0  # not a second early
        clock.advance(timedelta(seconds=1))
    assert waits == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 4)]

    assert asyncio.run(sender.run_once()) == 1
    failed = row(runtime.db, notification)
    assert (failed.status, failed.attempts) == ("failed", 5)
    assert failed.last_error == "connection refused (gave up after 5 attempts)"
    log = events(runtime.db, notification)
    assert [event for event, _detail, _worker in log] == [
        "queued",
        *(["claimed", "retrying"] * 4),
        "claimed",
        "failed",
    ]
    second = first_attempt + timedelta(minutes=1)
    assert log[2][1] == f"connection refused; attempt 2 at {second.isoformat()}"
    assert transport.calls == {failed.idempotency_key: 5}
    assert transport.accepted == []


def test_the_backoff_schedule_and_the_providers_hint():
    backoff = Backoff(first=timedelta(seconds=30), cap=timedelta(minutes=10))
    assert [backoff.delay(n).total_seconds() for n in range(1, 8)] == [
        30,
        60,
        120,
        240,
        480,
        600,
        600,
    ]
    assert backoff.delay(1000) == timedelta(minutes=10)
    # Retry-After asks for longer: it wins; for less: the schedule does.
    assert backoff.delay(1, retry_after_seconds=900) == timedelta(minutes=15)
    assert backoff.delay(3, retry_after_seconds=5) == timedelta(minutes=2)
    assert backoff.delay(1, retry_after_seconds=10**12) == timedelta(days=7)
    with pytest.raises(ValueError, match="0 < first <= cap"):
        Backoff(first=timedelta(minutes=2), cap=timedelta(minutes=1))


def test_a_providers_retry_after_is_respected(runtime, clock):
    visit = make_visit(runtime)
    [notification] = due_now(runtime, visit)
    transport = Recording(_always(TransientFailure("HTTP 429", retry_after_seconds=900)))

    asyncio.run(dispatcher(runtime.db, clock, transport).run_once())

    assert row(runtime.db, notification).available_at == clock.now() + timedelta(minutes=15)


def test_a_permanent_failure_fails_at_once_with_its_reason(runtime, clock):
    visit = make_visit(runtime)
    [notification] = due_now(runtime, visit)
    transport = Recording(_always(PermanentFailure("550 mailbox unavailable")))
    sender = dispatcher(runtime.db, clock, transport)

    asyncio.run(sender.run_once())
    clock.advance(timedelta(days=1))
    assert asyncio.run(sender.run_once()) == 0

    failed = row(runtime.db, notification)
    assert (failed.status, failed.attempts, failed.last_error) == (
        "failed",
        1,
        "550 mailbox unavailable",
    )
    assert events(runtime.db, notification)[-1] == ("failed", "550 mailbox unavailable", "worker-a")


def test_a_row_whose_appointment_is_gone_fails_without_a_send(runtime, clock):
    visit = make_visit(runtime)
    [notification] = due_now(runtime, visit)
    with runtime.db.write() as session:
        session.execute(delete(Appointment).where(Appointment.id == visit.appointment_id))
    transport = Recording()

    asyncio.run(dispatcher(runtime.db, clock, transport).run_once())

    failed = row(runtime.db, notification)
    assert failed.status == "failed"
    assert failed.last_error == "the appointment of this message no longer exists"
    assert transport.calls == {}


def test_a_send_that_hangs_times_out_and_is_retried(runtime, clock):
    visit = make_visit(runtime)
    [notification] = due_now(runtime, visit)

    async def hang(_key, _call):
        await asyncio.sleep(30)
        return Receipt()

    transport = Recording(hang)
    sender = dispatcher(
        runtime.db,
        clock,
        transport,
        send_timeout=timedelta(seconds=0.2),
        lease=timedelta(seconds=60),
    )

    asyncio.run(sender.run_once())

    pending = row(runtime.db, notification)
    assert pending.status == "pending"
    assert pending.last_error == "the transport did not answer within 0.2 s"


def test_a_transport_that_breaks_its_contract_is_retried_like_a_transient_failure(runtime, clock):
    visit = make_visit(runtime)
    [notification] = due_now(runtime, visit)
    transport = Recording(_always(KeyError("surprise")))

    asyncio.run(dispatcher(runtime.db, clock, transport).run_once())

    pending = row(runtime.db, notification)
    assert (pending.status, pending.last_error) == (
        "pending",
        "transport error: KeyError('surprise')",
    )


def test_a_reminder_past_its_visits_start_is_dropped_not_sent(runtime, clock):
    """The server was down over the reminder's time and past the visit's start."""
    start = clock.now() - timedelta(minutes=5)
    visit = make_visit(runtime, start)
    [late] = due_now(runtime, visit, due_at=start - timedelta(hours=24), expires_at=start)
    transport = Recording()

    assert asyncio.run(dispatcher(runtime.db, clock, transport).run_once()) == 1

    dropped = row(runtime.db, late)
    assert (dropped.status, dropped.attempts, dropped.sent_at) == ("dropped", 0, None)
    assert transport.calls == {}
    assert events(runtime.db, late)[-1] == (
        "dropped",
        f"its moment passed before it was sent (expired {start.isoformat()})",
        "worker-a",
    )


def test_a_reminder_whose_time_passed_while_down_is_sent_before_the_visit(runtime, clock):
    start = clock.now() + timedelta(minutes=30)
    visit = make_visit(runtime, start)
    [late] = due_now(runtime, visit, due_at=start - timedelta(hours=24), expires_at=start)
    transport = Recording()

    asyncio.run(dispatcher(runtime.db, clock, transport).run_once())

    assert row(runtime.db, late).status == "sent"
    assert len(transport.accepted) == 1


def _sample(name: str, channel: str, kind: str) -> float:
    value = REGISTRY.get_sample_value(f"{name}_total", {"channel": channel, "kind": kind})
    return value or 0.0


def test_outcomes_are_counted_by_channel_and_kind(runtime, clock):
    visit = make_visit(runtime)
    now = clock.now()
    before = {
        name: _sample(f"openvisit_notifications_{name}", "sms", "confirmation")
        for name in ("sent", "dropped", "failed")
    }
    due_now(runtime, visit, channel="sms", kind="confirmation", count=2)
    due_now(runtime, visit, channel="sms", kind="confirmation", expires_at=now, key="expired")

    asyncio.run(dispatcher(runtime.db, clock).run_once())

    after = {
        name: _sample(f"openvisit_notifications_{name}", "sms", "confirmation")
        for name in ("sent", "dropped", "failed")
    }
    assert {name: after[name] - before[name] for name in after} == {
        "sent": 2,
        "dropped": 1,
        "failed": 0,
    }


def test_a_dispatcher_refuses_a_send_timeout_as_long_as_its_lease(runtime, clock):
    with pytest.raises(ValueError, match="shorter than the lease"):
        dispatcher(
            runtime.db, clock, lease=timedelta(seconds=30), send_timeout=timedelta(seconds=30)
        )
