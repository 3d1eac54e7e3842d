"""A consumer waits, the provider admits them, they signal and chat: over /realtime/v1."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from openvisit.runtime import Runtime
from openvisit.store.models import MeetingMessage
from tests.realtime.peers import connected, hello
from tests.visits import Visit


def test_consumer_waits_first_in_line_and_the_provider_admits(
    rt_client: TestClient, visit: Visit
) -> None:
    with connected(rt_client, origin=None) as consumer:
        welcome = hello(consumer, join=visit.consumer_token)
        assert welcome["you"]["role"] == "consumer"
        assert welcome["you"]["displayName"] == "Jordan Lee"
        snapshot = welcome["snapshot"]
        assert snapshot["state"] == "lobby"
        lobby = consumer.until("lobby")  # from the queue's one read for all its waiters
        assert lobby["position"] == 1
        # 07:00 for a 10:00 visit: nobody is seen before their time.
        assert lobby["estimatedWaitSeconds"] == 3 * 3600
        assert lobby["provider"]["state"] == "ready"
        assert snapshot["meeting"]["timeZone"] == "America/New_York"
        consumer_id = welcome["you"]["participantId"]

        with connected(rt_client, cookie=visit.provider_cookie) as provider:
            staff = hello(provider, meeting=visit.meeting_id)
            assert staff["snapshot"]["state"] == "call"
            waiting = staff["snapshot"]["lobby"]["waiting"]
            assert [w["participantId"] for w in waiting] == [consumer_id]
            assert waiting[0]["displayName"] == "Jordan Lee"

            provider.send({"type": "admit", "id": "a1", "participantId": consumer_id})
            assert provider.until("ack")["id"] == "a1"
            assert consumer.until("admitted")["type"] == "admitted"
            in_call = consumer.until("snapshot")["snapshot"]
            assert in_call["state"] == "call"
            roles = sorted(p["role"] for p in in_call["participants"])
            assert roles == ["consumer", "provider"]
            joined = provider.until("participant")
            assert (joined["event"], joined["participant"]["participantId"]) == (
                "joined",
                consumer_id,
            )


def test_signals_reach_only_their_addressee_and_chat_goes_both_ways(
    rt_client: TestClient, visit: Visit, visit_runtime: Runtime
) -> None:
    with (
        connected(rt_client, cookie=visit.provider_cookie) as provider,
        connected(rt_client) as consumer,
    ):
        provider_id = hello(provider, meeting=visit.meeting_id)["you"]["participantId"]
        consumer_id = hello(consumer, join=visit.consumer_token)["you"]["participantId"]
        provider.send({"type": "admit", "participantId": consumer_id})
        consumer.until("snapshot")

        offer = {"type": "offer", "sdp": "v=0 offer"}
        consumer.send({"type": "signal", "to": provider_id, "description": offer})
        relayed = provider.until("signal")
        assert relayed["from"] == consumer_id
        assert relayed["description"] == offer

        consumer.send(
            {"type": "chat.send", "id": "m", "text": "Hello doctor", "clientMessageId": "c1"}
        )
        ack = consumer.until("ack")
        chat = provider.until("chat")["message"]
        assert (chat["text"], chat["from"], chat["audience"]) == (
            "Hello doctor",
            consumer_id,
            "call",
        )
        assert chat["chatId"] == ack["chatId"]

        provider.send({"type": "chat.send", "text": "Hello Jordan", "clientMessageId": "s1"})
        assert consumer.until("chat")["message"]["text"] == "Hello Jordan"

    with visit_runtime.db.read() as session:
        texts = session.scalars(select(MeetingMessage.text).order_by(MeetingMessage.id)).all()
    assert texts == ["Hello doctor", "Hello Jordan"]
