"""Claims are exclusive and leased: a dead dispatcher loses nothing, a late one changes
nothing, and an idle one takes no lock."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import timedelta

import anyio
import pytest
from sqlalchemy import make_url

from openvisit.notify import queue
from openvisit.notify.dispatcher import Claim, Dispatcher
from openvisit.notify.messages import Receipt
from openvisit.notify.transports.base import TransientFailure
from openvisit.store import notification_queries
from openvisit.store.db import Database
from tests.conftest import build_test_runtime
from tests.databases import requested_backends
from tests.notify.support import (
    Recording,
    dispatcher,
    due_now,
    events,
    make_visit,
    row,
    statuses,
)

LEASE = timedelta(minutes=5)


def test_the_stores_row_states_are_the_queues():
    assert (
        notification_queries.PENDING,
        notification_queries.SENDING,
        notification_queries.SENT,
        notification_queries.FAILED,
        notification_queries.DROPPED,
    ) == (queue.PENDING, queue.SENDING, queue.SENT, queue.FAILED, queue.DROPPED)
    assert notification_queries.OPEN_STATES == queue.OPEN_STATES


def test_two_dispatchers_claiming_at_once_take_disjoint_rows(runtime, clock):
    visit = make_visit(runtime)
    ids = due_now(runtime, visit, count=40)
    first = dispatcher(runtime.db, clock, worker_id="a", batch=25)
    second = dispatcher(runtime.db, clock, worker_id="b", batch=25)

    async def both() -> dict[str, Claim]:
        claims: dict[str, Claim] = {}

        async def take(name: str, sender: Dispatcher) -> None:
            claims[name] = await sender.claim()

        async with anyio.create_task_group() as group:
            group.start_soon(take, "a", first)
            group.start_soon(take, "b", second)
        return claims

    claims = asyncio.run(both())

    a = {fence.id for fence in claims["a"].fences}
    b = {fence.id for fence in claims["b"].fences}
    assert a.isdisjoint(b)
    assert a | b == set(ids)  # 25 + 15: the second took what the first left
    assert sorted([len(a), len(b)]) == [15, 25]
    assert {row(runtime.db, item).claimed_by for item in a} == {"a"}


def test_rows_are_claimed_oldest_first(runtime, clock):
    visit = make_visit(runtime)
    now = clock.now()
    newer = due_now(runtime, visit, due_at=now - timedelta(minutes=1), key="newer")
    older = due_now(runtime, visit, due_at=now - timedelta(hours=1), key="older")

    claim = asyncio.run(dispatcher(runtime.db, clock, batch=1).claim())

    assert [fence.id for fence in claim.fences] == older
    assert row(runtime.db, newer[0]).status == "pending"


def test_a_dispatcher_killed_between_claim_and_send_loses_nothing(runtime, clock):
    visit = make_visit(runtime)
    ids = due_now(runtime, visit, count=30)
    dead = dispatcher(runtime.db, clock, Recording(), worker_id="dead", lease=LEASE)
    transport = Recording()
    heir = dispatcher(runtime.db, clock, transport, worker_id="heir", lease=LEASE)

    claim = asyncio.run(dead.claim())  # committed; then the process "dies"
    assert len(claim.fences) == 30
    del dead

    # While the lease runs, the rows are the dead worker's: nobody sends them.
    clock.advance(LEASE - timedelta(seconds=1))
    assert asyncio.run(heir.run_once()) == 0
    clock.advance(timedelta(seconds=1))
    while asyncio.run(heir.run_once()):
        pass

    assert set(statuses(runtime.db).values()) == {"sent"}
    assert sorted(transport.accepted) == sorted(
        row(runtime.db, item).idempotency_key for item in ids
    )
    assert len(transport.accepted) == len(set(transport.accepted)) == 30
    sample = ids[0]
    assert [event for event, _detail, _worker in events(runtime.db, sample)] == [
        "queued",
        "claimed",
        "reclaimed",
        "sent",
    ]
    assert events(runtime.db, sample)[2] == (
        "reclaimed",
        "attempt 2; the lease of dead ran out",
        "heir",
    )
    assert row(runtime.db, sample).attempts == 2


def test_a_late_outcome_after_the_lease_was_taken_over_is_ignored(runtime, clock):
    """The fence: a send that outlived its lease cannot undo the new holder's outcome."""
    visit = make_visit(runtime)
    [notification] = due_now(runtime, visit)
    heir = dispatcher(runtime.db, clock, Recording(), worker_id="heir", lease=LEASE)

    async def slow_then_failing(_key, _call):
        # While this send hangs, the lease lapses and another worker sends the row.
        clock.advance(LEASE + timedelta(seconds=1))
        assert await heir.run_once() == 1
        raise TransientFailure("connection reset")

    stale = dispatcher(
        runtime.db, clock, Recording(slow_then_failing), worker_id="stale", lease=LEASE
    )
    asyncio.run(stale.run_once())

    sent = row(runtime.db, notification)
    assert (sent.status, sent.attempts, sent.claimed_by) == ("sent", 2, None)
    assert [(event, worker) for event, _detail, worker in events(runtime.db, notification)] == [
        ("queued", None),
        ("claimed", "stale"),
        ("reclaimed", "heir"),
        ("sent", "heir"),
    ]


def test_a_claim_whose_lease_ran_out_before_its_send_is_not_sent(runtime, clock):
    visit = make_visit(runtime)
    [notification] = due_now(runtime, visit)
    transport = Recording()
    stale = dispatcher(runtime.db, clock, transport, worker_id="stale", lease=LEASE)

    claim = asyncio.run(stale.claim())
    clock.advance(LEASE)  # e.g. the process was paused
    asyncio.run(stale.deliver(claim))

    assert transport.calls == {}
    released = row(runtime.db, notification)
    assert (released.status, released.attempts) == ("pending", 0)
    assert events(runtime.db, notification)[-1] == (
        "released",
        "not sent: too little of the lease left",
        "stale",
    )
    heir = dispatcher(runtime.db, clock, transport, worker_id="heir", lease=LEASE)
    asyncio.run(heir.run_once())
    assert row(runtime.db, notification).status == "sent"
    assert len(transport.accepted) == 1


def test_stopping_finishes_sends_in_flight_and_releases_the_rest(runtime, clock):
    visit = make_visit(runtime)
    ids = due_now(runtime, visit, count=5)
    holder = {}

    async def first_waits(_key, call):
        if "started" not in holder:
            holder["started"] = True
            sender.stop()  # SIGTERM arrives while this send is in flight
            await asyncio.sleep(0.05)
        return Receipt(provider_id="p")

    transport = Recording(first_waits)
    sender = dispatcher(runtime.db, clock, transport, concurrency=1)

    assert asyncio.run(sender.run_once()) == 5

    states = statuses(runtime.db)
    assert sorted(states.values()) == ["pending"] * 4 + ["sent"]
    released = [item for item in ids if states[item] == "pending"]
    for item in released:
        again = row(runtime.db, item)
        assert (again.attempts, again.claimed_by, again.available_at) == (0, None, clock.now())
        assert events(runtime.db, item)[-1] == (
            "released",
            "not sent: the worker stopped",
            "worker-a",
        )
    # The next dispatcher sends them.
    rest = Recording()
    asyncio.run(dispatcher(runtime.db, clock, rest, worker_id="b").run_once())
    assert len(rest.accepted) == 4
    assert set(statuses(runtime.db).values()) == {"sent"}


def test_a_row_that_keeps_killing_its_dispatcher_fails_after_its_attempts(runtime, clock):
    visit = make_visit(runtime)
    [notification] = due_now(runtime, visit)
    for name in ("first", "second"):
        asyncio.run(dispatcher(runtime.db, clock, worker_id=name, max_attempts=2).claim())
        clock.advance(LEASE)

    third = Recording()
    asyncio.run(dispatcher(runtime.db, clock, third, worker_id="third", max_attempts=2).run_once())

    failed = row(runtime.db, notification)
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert failed.last_error == "gave up: 2 attempts ended without an outcome"
    assert third.calls == {}


def _holding_sqlite_write_lock(database: Database) -> sqlite3.Connection:
    connection = sqlite3.connect(make_url(database.url).database or "", isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    return connection


@pytest.fixture
def sqlite_runtime(sqlite_template, clock):
    with sqlite_template.database() as database:
        yield build_test_runtime(database, clock)


# SQLite's one write lock by nature (PostgreSQL locks rows); none collected without it.
@pytest.mark.parametrize("backend", [name for name in requested_backends() if name == "sqlite"])
def test_an_idle_poll_takes_no_write_lock_on_sqlite(backend, sqlite_runtime, clock):
    visit = make_visit(sqlite_runtime)
    due_now(sqlite_runtime, visit, due_at=clock.now() + timedelta(hours=1))
    writer = _holding_sqlite_write_lock(sqlite_runtime.db)
    try:
        started = time.monotonic()
        assert asyncio.run(dispatcher(sqlite_runtime.db, clock).run_once()) == 0
        assert time.monotonic() - started < 1.0  # a write would wait 15 s for the lock
    finally:
        writer.execute("ROLLBACK")
        writer.close()
