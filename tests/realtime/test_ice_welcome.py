"""TURN credentials in the `welcome` frame are signed against the wall clock.

The tests' `runtime.clock` is pinned to November 2026; coturn checks a credential's expiry
against its own clock, so one stamped by the pinned clock would be dead (or live for a year)
at coturn. The runtime's `wall_clock` stamps them instead; here it is pinned too, to an
instant far from the visit's, so the frames show which clock was read.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openvisit.clock import FixedClock
from openvisit.meetings.ice import IceConfig, turn_credential
from openvisit.runtime import Runtime
from tests.realtime.conftest import AppMaker
from tests.realtime.peers import connected, hello
from tests.visits import Visit

SECRET = "0123456789abcdef0123456789abcdef"
TTL = 3600
ICE = IceConfig(
    turn_urls=("turn:127.0.0.1:3478?transport=udp",),
    turn_secret=SECRET,
    ttl_seconds=TTL,
    transport_policy="relay",
)
WALL = datetime.fromisoformat("2031-03-05T08:30:00+00:00")


@pytest.fixture
def relay_runtime(visit_runtime: Runtime) -> Runtime:
    return dataclasses.replace(visit_runtime, ice=ICE, wall_clock=FixedClock(WALL))


@pytest.fixture
def relay_client(build_app: AppMaker, relay_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(build_app(relay_runtime)) as client:
        yield client


def turn_entry(configuration: dict[str, Any]) -> dict[str, Any]:
    assert configuration["iceTransportPolicy"] == "relay"
    [turn] = configuration["iceServers"]
    assert turn["urls"] == ["turn:127.0.0.1:3478?transport=udp"]
    return dict(turn)


def assert_signed_at_wall_time(configuration: dict[str, Any], participant_id: str) -> None:
    turn = turn_entry(configuration)
    expires_at = int(WALL.timestamp()) + TTL
    assert turn["username"] == f"{expires_at}:{participant_id}"
    assert (turn["username"], turn["credential"]) == turn_credential(
        SECRET, participant_id, expires_at
    )


def test_a_pinned_clock_still_gets_a_credential_that_expires_ttl_from_now(
    runtime: Runtime,
) -> None:
    pinned = dataclasses.replace(runtime, ice=ICE)  # wall_clock left as Runtime makes it
    assert isinstance(pinned.clock, FixedClock)

    before = int(time.time())
    turn = turn_entry(dict(pinned.rtc_configuration("p_1")))
    after = int(time.time())

    expires_at = int(turn["username"].split(":", 1)[0])
    assert before + TTL <= expires_at <= after + TTL
    assert (turn["username"], turn["credential"]) == turn_credential(SECRET, "p_1", expires_at)


def test_the_consumers_and_the_providers_welcome_carry_wall_clock_credentials(
    relay_client: TestClient, visit: Visit
) -> None:
    with (
        connected(relay_client) as consumer,
        connected(relay_client, cookie=visit.provider_cookie) as provider,
    ):
        theirs = hello(consumer, join=visit.consumer_token)
        ours = hello(provider, meeting=visit.meeting_id)

        assert_signed_at_wall_time(theirs["rtcConfiguration"], theirs["you"]["participantId"])
        assert_signed_at_wall_time(ours["rtcConfiguration"], ours["you"]["participantId"])


def test_the_boards_welcome_carries_a_wall_clock_credential(
    relay_client: TestClient, visit: Visit
) -> None:
    with connected(relay_client, cookie=visit.provider_cookie) as board:
        welcome = hello(board, board=True)

        staff_id = welcome["you"]["staffUserId"]
        assert_signed_at_wall_time(welcome["rtcConfiguration"], f"staff:{staff_id}")
