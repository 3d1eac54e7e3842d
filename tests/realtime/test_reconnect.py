"""Reloads, second tabs, lobby talk, "running late", the end, and the attendance left."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from openvisit.clock import FixedClock
from openvisit.realtime import hub
from openvisit.runtime import Runtime
from openvisit.store.models import (
    MeetingAttendance,
    MeetingParticipant,
    MeetingSession,
    OnlineMeeting,
)
from tests.realtime.conftest import AppMaker, another_visit
from tests.realtime.linked_bus import LinkedBuses
from tests.realtime.peers import connected, hello
from tests.visits import Visit

CHECK = {
    "browser": {"supported": True, "name": "Chrome 156"},
    "camera": "blocked",
    "microphone": "ok",
    "speaker": "untested",
    "network": {"reachable": True, "relay": True, "roundTripMs": 12, "downlinkKbps": 8000},
    "checkedAt": "2026-11-24T12:00:00Z",
}


def test_a_reload_keeps_the_lobby_place_and_an_admitted_consumer_returns_to_the_call(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime, clock: FixedClock
) -> None:
    other = another_visit(visit_runtime, visit, visit_runtime.clock.now().replace(hour=16))
    with connected(rt_client) as consumer:
        first = hello(consumer, join=visit.consumer_token)
    clock.advance(timedelta(minutes=5))
    with connected(rt_client) as later_one:  # a 11:00 patient arrives while they are away
        hello(later_one, join=other)
        assert later_one.until("lobby")["position"] == 1
        with connected(rt_client) as consumer:
            again = hello(
                consumer,
                join=visit.consumer_token,
                resume={"connectionId": first["connectionId"], "lastSeq": 1},
            )
            assert again["snapshot"]["state"] == "lobby"
            assert consumer.until("lobby")["position"] == 1
            assert again["you"]["participantId"] == first["you"]["participantId"]
            assert later_one.until("lobby")["position"] == 2
    with visit_runtime.db.read() as session:
        entered = session.scalar(
            select(MeetingParticipant.lobby_entered_at).where(
                MeetingParticipant.id == first["you"]["participantId"]
            )
        )
    assert entered == visit_runtime.clock.now() - timedelta(minutes=5)

    with connected(rt_client, cookie=visit.provider_cookie) as provider:
        hello(provider, meeting=visit.meeting_id)
        with connected(rt_client) as consumer:
            me = hello(consumer, join=visit.consumer_token)["you"]["participantId"]
            provider.send({"type": "admit", "participantId": me})
            consumer.until("snapshot")
            consumer.send({"type": "chat.send", "text": "one", "clientMessageId": "1"})
            last = consumer.until("ack")["chatId"]
            provider.send({"type": "chat.send", "text": "two", "clientMessageId": "2"})
            consumer.until("chat")
        with connected(rt_client) as consumer:
            back = hello(
                consumer,
                join=visit.consumer_token,
                resume={"connectionId": "c_x", "lastChatId": last},
            )
            assert back["snapshot"]["state"] == "call"
            assert [m["text"] for m in back["snapshot"]["chat"]] == ["two"]


def test_a_second_tab_replaces_the_first_with_4409(rt_client: TestClient, visit: Visit) -> None:
    with connected(rt_client) as first:
        hello(first, join=visit.consumer_token)
        with connected(rt_client) as second:
            hello(second, join=visit.consumer_token)
            assert first.closed()[0] == 4409
            second.send({"type": "ping", "t": 1})
            assert second.until("pong")["t"] == 1


def test_lobby_messages_reach_staff_and_the_answer_comes_back(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime
) -> None:
    with (
        connected(rt_client, cookie=visit.provider_cookie) as provider,
        connected(rt_client) as consumer,
    ):
        hello(provider, meeting=visit.meeting_id)
        me = hello(consumer, join=visit.consumer_token)["you"]["participantId"]
        consumer.send({"type": "deviceCheck", "id": "d", "result": CHECK})
        assert consumer.until("ack")["id"] == "d"
        waiting = provider.until("waiting")["waiting"]
        while waiting[0]["deviceCheck"] is None:  # the arrival's list may come first
            waiting = provider.until("waiting")["waiting"]
        assert waiting[0]["deviceCheck"]["camera"] == "blocked"

        frame = {"type": "chat.send", "id": "q", "text": "Running late?", "clientMessageId": "q1"}
        consumer.send(frame)
        first = consumer.until("ack")["chatId"]
        message = provider.until("chat")["message"]
        assert (message["audience"], message["lobbyParticipantId"]) == ("lobby", me)
        consumer.send(frame)  # a resend after a reconnect: stored once, acked the same
        assert consumer.until("ack")["chatId"] == first

        provider.send(
            {
                "type": "lobby.reply",
                "participantId": me,
                "text": "Two minutes",
                "clientMessageId": "r1",
            }
        )
        reply = consumer.until("chat")["message"]
        assert (reply["text"], reply["audience"], reply["role"]) == (
            "Two minutes",
            "lobby",
            "provider",
        )
    with visit_runtime.db.read() as session:
        stored = session.scalar(
            select(MeetingParticipant.device_check).where(MeetingParticipant.id == me)
        )
    assert stored == CHECK


def test_running_late_reaches_the_waiting_room(rt_client: TestClient, visit: Visit) -> None:
    with (
        connected(rt_client, cookie=visit.provider_cookie) as provider,
        connected(rt_client) as consumer,
    ):
        hello(provider, meeting=visit.meeting_id)
        hello(consumer, join=visit.consumer_token)
        assert consumer.until("lobby")["provider"]["state"] == "ready"
        provider.send(
            {"type": "providerStatus", "state": "late", "lateMinutes": 10, "message": "Sorry!"}
        )
        lobby = consumer.until("lobby")
        assert lobby["provider"] == {"state": "late", "lateMinutes": 10, "message": "Sorry!"}
        assert lobby["position"] == 1


def test_the_end_closes_everyone_with_4410_and_leaves_sane_attendance(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime, clock: FixedClock
) -> None:
    start = clock.now()
    with (
        connected(rt_client, cookie=visit.provider_cookie) as provider,
        connected(rt_client) as consumer,
    ):
        hello(provider, meeting=visit.meeting_id)
        me = hello(consumer, join=visit.consumer_token)["you"]["participantId"]
        clock.advance(timedelta(minutes=3))
        provider.send({"type": "admit", "participantId": me})
        consumer.until("snapshot")
        clock.advance(timedelta(minutes=20))
        provider.send({"type": "end"})
        code, frames = consumer.closed()
        assert code == 4410 and frames[-1]["type"] == "ended"
        assert provider.closed()[0] == 4410
    with visit_runtime.db.read() as session:
        assert session.scalar(select(OnlineMeeting.status)) == "ended"
        sittings = session.execute(select(MeetingSession.started_at, MeetingSession.ended_at)).all()
        stretches = session.execute(
            select(MeetingParticipant.role, MeetingAttendance.kind, MeetingAttendance.started_at,
                   MeetingAttendance.ended_at)
            .join(MeetingParticipant, MeetingParticipant.id == MeetingAttendance.participant_id)
            .order_by(MeetingAttendance.id)
        ).all()  # fmt: skip
    minutes = timedelta(minutes=1)
    assert sittings == [(start, start + 23 * minutes)]
    assert [tuple(row) for row in stretches] == [
        ("provider", "call", start, start + 23 * minutes),
        ("consumer", "lobby", start, start + 3 * minutes),
        ("consumer", "call", start + 3 * minutes, start + 23 * minutes),
    ]
    with connected(rt_client) as consumer:  # the visit is over: the ended page
        welcome = hello(consumer, join=visit.consumer_token)
        assert welcome["snapshot"]["state"] == "ended"
        assert consumer.closed()[0] == 4410


def test_consumer_and_provider_on_two_app_instances_sharing_one_database_and_bus(
    build_app: AppMaker, visit_runtime: Runtime, visit: Visit
) -> None:
    buses = LinkedBuses()
    one = build_app(dataclasses.replace(visit_runtime, events=buses.bus()))
    two = build_app(dataclasses.replace(visit_runtime, events=buses.bus()))
    with (
        TestClient(one) as first,
        TestClient(two) as second,
        connected(first) as consumer,
        connected(second, cookie=visit.provider_cookie) as provider,
    ):
        me = hello(consumer, join=visit.consumer_token)["you"]["participantId"]
        staff = hello(provider, meeting=visit.meeting_id)
        provider_id = staff["you"]["participantId"]
        assert [w["participantId"] for w in staff["snapshot"]["lobby"]["waiting"]] == [me]
        provider.send({"type": "admit", "participantId": me})
        assert consumer.until("admitted")["type"] == "admitted"
        consumer.send({"type": "signal", "to": provider_id, "candidate": {"candidate": "a"}})
        assert provider.until("signal")["candidate"]["candidate"] == "a"
        provider.send({"type": "chat.send", "text": "across", "clientMessageId": "x"})
        assert consumer.until("chat")["message"]["text"] == "across"
        with connected(second) as tab:  # the consumer's second tab, on the other one
            hello(tab, join=visit.consumer_token)
            assert consumer.closed()[0] == 4409


def test_a_waiter_hears_of_arrivals_ahead_of_them_and_not_of_those_behind(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime
) -> None:
    # Thousands wait at once in a busy waiting room: an arrival behind everyone must not
    # cost a frame to each of them (docs/performance.md, "Waiting room fan-out").
    today = visit_runtime.clock.now()  # in UTC: New York's 10:00 visit is at 15:00
    at_eleven = another_visit(visit_runtime, visit, today.replace(hour=16))
    at_three = another_visit(visit_runtime, visit, today.replace(hour=20))
    with connected(rt_client) as eleven:
        hello(eleven, join=at_eleven)
        assert eleven.until("lobby")["position"] == 1
        with connected(rt_client) as ten:  # the 10:00 patient goes ahead
            hello(ten, join=visit.consumer_token)
            assert ten.until("lobby")["position"] == 1
            assert eleven.until("lobby")["position"] == 2
            with connected(rt_client) as three:  # the 15:00 one goes behind both
                hello(three, join=at_three)
                assert three.until("lobby")["position"] == 3
                ten.nothing_for(hub.COALESCE_SECONDS + 0.5)
                eleven.nothing_for(0.1)
