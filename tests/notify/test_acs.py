"""The Azure Communication Services adapter against a local server that verifies the HMAC
signature and answers as ACS's SMS API does."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from openvisit.clock import FixedClock
from openvisit.notify.messages import Receipt, TextMessage
from openvisit.notify.transports.acs import from_options, repeatability_id
from openvisit.notify.transports.base import PermanentFailure, TransientFailure
from openvisit.notify.transports.provider_http import NotConfigured
from tests.conftest import TEST_NOW
from tests.live import free_port, serve_asgi
from tests.notify.providers import acs as cloud
from tests.notify.providers.client import send
from tests.notify.providers.twilio import Scripted

ANN = "+4915123456789"
KEY = "a1:reminder:PT24H:sms:+4915123456789"
TEXT = TextMessage(ANN, "Erinnerung: Ihr Termin ist morgen um 10:00 Uhr.", KEY)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_NOW)


@pytest.fixture
def acs(clock: FixedClock) -> Iterator[tuple[cloud.FakeAcs, str]]:
    fake = cloud.FakeAcs(clock.now())
    with serve_asgi(fake.app, graceful_seconds=1) as url:
        yield fake, url


def options(url: str, clock: FixedClock, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "acs_endpoint": url + "/",
        "acs_access_key": SecretStr(cloud.ACCESS_KEY),
        "acs_from_number": cloud.FROM_NUMBER,
        "sms_timeout_seconds": 2,
        "clock": clock,
    }
    return {**values, **changes}


def test_a_text_is_signed_and_posted_as_acs_documents_it(acs, clock):
    fake, url = acs

    [receipt] = send(from_options(options(url, clock)), TEXT)

    assert isinstance(receipt, Receipt)
    assert receipt.provider_id is not None and receipt.provider_id.startswith("Outgoing_")
    assert receipt.detail == "ACS accepted (repeatability accepted)"
    [request] = fake.received
    assert request.path_and_query == "/sms?api-version=2021-03-07"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-ms-date"] == "Mon, 23 Nov 2026 14:00:00 GMT"
    assert request.headers["authorization"].startswith(
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
    )
    assert request.json() == {
        "from": cloud.FROM_NUMBER,
        "smsRecipients": [
            {
                "to": ANN,
                "repeatabilityRequestId": repeatability_id(KEY),
                "repeatabilityFirstSent": "Mon, 23 Nov 2026 14:00:00 GMT",
            }
        ],
        "message": TEXT.body,
        "smsSendOptions": {"enableDeliveryReport": False},
    }
    assert uuid.UUID(repeatability_id(KEY)).version == 5
    assert fake.sent == [{"to": ANN, "from": cloud.FROM_NUMBER, "message": TEXT.body}]


def test_a_retry_repeats_its_id_and_first_sent_time_and_is_sent_once(acs, clock):
    fake, url = acs
    fake.answer_next(Scripted(503, {"error": {"code": "ServiceUnavailable", "message": "Busy"}}))

    failure, receipt, again = send(
        from_options(options(url, clock)), TEXT, timedelta(minutes=2), TEXT, TEXT, clock=clock
    )

    assert isinstance(failure, TransientFailure)
    assert isinstance(receipt, Receipt) and isinstance(again, Receipt)
    assert again.provider_id == receipt.provider_id
    recipients = [request.json()["smsRecipients"] for request in fake.received]
    assert recipients[0] == recipients[1] == recipients[2]
    assert recipients[0][0]["repeatabilityFirstSent"] == "Mon, 23 Nov 2026 14:00:00 GMT"
    # Each request is signed at its own time; only the repeatability fields stay.
    assert fake.received[1].headers["x-ms-date"] == "Mon, 23 Nov 2026 14:02:00 GMT"
    assert len(fake.sent) == 1


def test_a_first_attempt_time_carried_by_the_message_is_used(acs, clock):
    fake, url = acs
    earlier = TEST_NOW - timedelta(minutes=3)

    [receipt] = send(from_options(options(url, clock)), replace(TEXT, first_attempt_at=earlier))

    assert isinstance(receipt, Receipt)
    recipient = fake.received[0].json()["smsRecipients"][0]
    assert recipient["repeatabilityFirstSent"] == "Mon, 23 Nov 2026 13:57:00 GMT"


def test_another_send_gets_another_repeatability_id(acs, clock):
    fake, url = acs
    other = replace(TEXT, idempotency_key="a1:confirmation:-:sms:+4915123456789")

    send(from_options(options(url, clock)), TEXT, other)

    ids = [
        request.json()["smsRecipients"][0]["repeatabilityRequestId"] for request in fake.received
    ]
    assert ids[0] != ids[1]
    assert len(fake.sent) == 2


def test_a_wrong_access_key_is_refused_by_signature_and_retried(acs, clock):
    fake, url = acs
    wrong = base64.b64encode(b"some other resource's key").decode()

    [failure] = send(from_options(options(url, clock, acs_access_key=wrong)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.reason == (
        "ACS Denied (HTTP 401): Denied by the resource provider.; "
        "check OPENVISIT_ACS_ENDPOINT and OPENVISIT_ACS_ACCESS_KEY"
    )
    assert fake.sent == []


def test_a_clock_far_off_is_refused(acs, clock):
    fake, url = acs
    fake.now = TEST_NOW + timedelta(hours=1)

    [failure] = send(from_options(options(url, clock)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert "outside the accepted window" in failure.reason


def test_an_invalid_number_in_the_202_fails_for_good(acs, clock):
    fake, url = acs

    [failure] = send(from_options(options(url, clock)), replace(TEXT, to_number="+4912"))

    assert isinstance(failure, PermanentFailure)
    assert failure.reason == (
        "ACS refused the recipient (HTTP 400): Invalid To phone number format."
    )
    assert fake.sent == []


def test_a_recipient_throttled_in_the_202_is_retried(acs, clock):
    fake, url = acs
    fake.fail_recipient(ANN, 429, "Too many messages to this number.")

    [failure] = send(from_options(options(url, clock)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert "HTTP 429" in failure.reason


def test_too_many_requests_is_retried_after_the_hint(acs, clock):
    fake, url = acs
    body = {"error": {"code": "TooManyRequests", "message": "Rate limit exceeded."}}
    fake.answer_next(Scripted(429, body, {"Retry-After": "12"}))

    [failure] = send(from_options(options(url, clock)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.retry_after_seconds == 12
    assert failure.reason == "ACS TooManyRequests (HTTP 429): Rate limit exceeded."


def test_a_server_error_is_retried(acs, clock):
    fake, url = acs
    fake.answer_next(Scripted(500, None))

    [failure] = send(from_options(options(url, clock)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.reason == "ACS HTTP 500"


def test_a_sender_that_is_not_the_resources_fails_for_good(acs, clock):
    _fake, url = acs

    [failure] = send(from_options(options(url, clock, acs_from_number="+18005550199")), TEXT)

    assert isinstance(failure, PermanentFailure)
    assert failure.reason.startswith("ACS BadRequest (HTTP 400): The sender '+18005550199'")


def test_a_slow_answer_times_out_and_is_retried(acs, clock):
    fake, url = acs
    fake.answer_next(Scripted(202, {"value": []}, delay_seconds=1.0))

    [failure] = send(from_options(options(url, clock, sms_timeout_seconds=0.2)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.reason.startswith(
        "Azure Communication Services did not answer within 0.2 s (ReadTimeout)"
    )


def test_no_server_at_all_is_retried(clock):
    closed = f"http://127.0.0.1:{free_port()}"

    [failure] = send(from_options(options(closed, clock)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.reason.startswith("could not reach Azure Communication Services")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"acs_endpoint": ""}, "the acs SMS transport needs OPENVISIT_ACS_ENDPOINT"),
        (
            {"acs_access_key": None, "acs_from_number": None},
            "the acs SMS transport needs OPENVISIT_ACS_ACCESS_KEY, OPENVISIT_ACS_FROM_NUMBER",
        ),
        ({"acs_endpoint": "contoso.communication.azure.com"}, "OPENVISIT_ACS_ENDPOINT must be"),
        ({"acs_access_key": SecretStr("not base64!")}, "OPENVISIT_ACS_ACCESS_KEY is not a base64"),
        ({"acs_from_number": "0800 555 0100"}, "OPENVISIT_ACS_FROM_NUMBER must be an E.164"),
    ],
)
def test_a_transport_missing_a_setting_is_refused(clock, changes, problem):
    values = options("https://contoso.communication.azure.com", clock, **changes)

    with pytest.raises(NotConfigured) as raised:
        from_options(values)

    assert str(raised.value).startswith(problem)
    assert "not base64!" not in str(raised.value)
