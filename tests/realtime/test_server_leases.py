"""Ghosts of a crashed server leave the pages of the live ones, over /realtime/v1.

The crashed server is a lease nobody renews any more, with a waiter's row left open
under it, as `kill -9` leaves them; the live server is the app under test, whose hub
holds the lease it sweeps with (realtime/lease.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from openvisit.clock import FixedClock
from openvisit.meetings import server_leases, visits
from openvisit.meetings.access import check_join_link
from openvisit.realtime.endpoint import hub_of
from openvisit.realtime.lease import ServerLease
from openvisit.runtime import Runtime
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade
from openvisit.store.models import MeetingAttendance, ServerInstance
from tests.conftest import TEST_NOW, build_test_runtime
from tests.realtime.conftest import AppMaker, another_visit
from tests.realtime.peers import Peer, connected, hello
from tests.visits import Visit

NINE = datetime.fromisoformat("2026-11-24T14:00:00+00:00")  # 09:00 in New York
T = TypeVar("T")
PAST_EXPIRY = server_leases.EXPIRES_AFTER + timedelta(seconds=1)


def _ghost_at_nine(runtime: Runtime, visit: Visit) -> tuple[str, visits.Presence]:
    """A crashed server's lease, and the 09:00 waiter it left in Dr. Ann's queue."""
    token = another_visit(runtime, visit, NINE)
    entrant = check_join_link(
        runtime.db, secret_key=runtime.secret_key, token=token, now=runtime.clock.now()
    )
    crashed = server_leases.register(runtime.db, runtime.clock)
    ghost = visits.enter(
        runtime.db, runtime.clock, lambda _c, _p: None, entrant, "c_ghost",
        server_instance_id=crashed,
    )  # fmt: skip
    return crashed, ghost


def _stretches(runtime: Runtime) -> dict[str, tuple[str | None, datetime | None]]:
    with runtime.db.read() as session:
        rows = session.execute(
            select(
                MeetingAttendance.connection_id,
                MeetingAttendance.server_instance_id,
                MeetingAttendance.ended_at,
            )
        ).all()
    return {connection: (server, ended) for connection, server, ended in rows}


def _on_the_hubs_loop(client: TestClient, work: Callable[[], Awaitable[T]]) -> T:
    """What the hub's own loop runs (a round of renewing or sweeping), run now."""
    assert client.portal is not None  # the client is entered: its loop runs the hub
    return client.portal.call(work)


def _status_of(peer: Peer, meeting_id: str, wanted: str) -> dict[str, Any]:
    while True:
        for item in peer.until("board")["board"]["appointments"]:
            if item["meetingId"] == meeting_id and item["status"] == wanted:
                return dict(item)


def test_the_waiter_behind_a_crashed_servers_ghost_moves_up_and_the_board_clears(
    rt_app: FastAPI, rt_client: TestClient, visit: Visit, visit_runtime: Runtime
) -> None:
    clock = visit_runtime.clock
    assert isinstance(clock, FixedClock)
    crashed, ghost = _ghost_at_nine(visit_runtime, visit)
    last_heartbeat = clock.now()
    with (
        connected(rt_client) as waiter,
        connected(rt_client, cookie=visit.provider_cookie) as board,
    ):
        hello(waiter, join=visit.consumer_token)
        assert waiter.until("lobby")["position"] == 2  # the ghost is ahead
        day = hello(board, board=True)["snapshot"]["board"]["appointments"]
        assert {item["meetingId"]: item["status"] for item in day}[ghost.meeting_id] == "waiting"
        clock.advance(PAST_EXPIRY)

        closed = _on_the_hubs_loop(rt_client, hub_of(rt_app).lease.sweep)

        assert closed == 1
        assert waiter.until("lobby")["position"] == 1
        _status_of(board, ghost.meeting_id, "upcoming")
    assert _stretches(visit_runtime)["c_ghost"] == (crashed, last_heartbeat)


def test_a_server_taken_for_dead_closes_its_pages_and_they_come_back_where_they_were(
    rt_app: FastAPI, rt_client: TestClient, visit: Visit, visit_runtime: Runtime
) -> None:
    """Paused (or cut off from the database) past the expiry, it was reaped by another:
    its pages reconnect and are placed again, under a lease of its own."""
    clock = visit_runtime.clock
    assert isinstance(clock, FixedClock)
    hub = hub_of(rt_app)
    with connected(rt_client) as waiter:
        first = hello(waiter, join=visit.consumer_token)
        paused = _stretches(visit_runtime)[first["connectionId"]][0]
        assert paused is not None
        clock.advance(PAST_EXPIRY)
        other = server_leases.register(visit_runtime.db, clock)
        assert server_leases.reap(visit_runtime.db, clock, lambda _c, _p: None, sweeper=other)

        _on_the_hubs_loop(rt_client, hub.lease.current)  # its renewal finds the lease gone

        assert waiter.closed()[0] == 1012
    with connected(rt_client) as again:
        welcome = hello(again, join=visit.consumer_token)
        assert welcome["snapshot"]["state"] == "lobby"
        server, ended = _stretches(visit_runtime)[welcome["connectionId"]]
    assert ended is None
    assert server not in (None, paused, other)
    assert hub.lease.holds(server or "")


def test_a_starting_server_sweeps_at_once_and_a_clean_stop_leaves_no_lease(
    build_app: AppMaker, visit: Visit, visit_runtime: Runtime
) -> None:
    clock = visit_runtime.clock
    assert isinstance(clock, FixedClock)
    crashed, _ghost = _ghost_at_nine(visit_runtime, visit)
    died = clock.now()
    clock.advance(timedelta(hours=1))  # the machine lost power; it is back an hour later
    with TestClient(build_app(visit_runtime)):
        assert _stretches(visit_runtime)["c_ghost"] == (crashed, died)
    with visit_runtime.db.read() as session:
        assert session.scalars(select(ServerInstance.id)).all() == []


def test_a_server_whose_database_is_not_ready_starts_and_takes_its_lease_later(
    build_app: AppMaker, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'later.db'}"
    runtime = build_test_runtime(Database(url), FixedClock(TEST_NOW))
    with TestClient(build_app(runtime)) as client:  # no tables yet: it starts all the same
        lease = hub_of(client.app).lease
        refused = client.portal.call(_lease_or_none, lease)  # type: ignore[union-attr]
        assert refused is None
        upgrade(url)
        taken = client.portal.call(_lease_or_none, lease)  # type: ignore[union-attr]
        assert taken is not None
        with runtime.db.read() as session:
            assert session.scalars(select(ServerInstance.id)).all() == [taken]


async def _lease_or_none(lease: ServerLease) -> str | None:
    try:
        return str(await lease.current())
    except server_leases.LeaseLost:
        return None
