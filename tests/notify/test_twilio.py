"""The Twilio adapter against a local server that answers as Twilio's Messages API does."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pydantic import SecretStr

from openvisit.clock import FixedClock
from openvisit.notify.messages import Receipt, TextMessage
from openvisit.notify.transports.base import PermanentFailure, TransientFailure
from openvisit.notify.transports.provider_http import NotConfigured
from openvisit.notify.transports.twilio import from_options, options_problem
from tests.conftest import TEST_NOW
from tests.live import free_port, serve_asgi
from tests.notify.providers import twilio as cloud
from tests.notify.providers.client import send

ANN = "+12015550123"
TEXT = TextMessage(ANN, "Reminder: your visit is tomorrow at 10:00.", "a1:reminder:PT24H:sms:x")


@pytest.fixture
def twilio() -> Iterator[tuple[cloud.FakeTwilio, str]]:
    fake = cloud.FakeTwilio()
    with serve_asgi(fake.app, graceful_seconds=1) as url:
        yield fake, url


def options(url: str, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "twilio_account_sid": cloud.ACCOUNT_SID,
        "twilio_auth_token": SecretStr(cloud.AUTH_TOKEN),
        "twilio_from_number": cloud.FROM_NUMBER,
        "twilio_api_base_url": url,
        "sms_timeout_seconds": 2,
        "clock": FixedClock(TEST_NOW),
    }
    return {**values, **changes}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_text_is_posted_as_twilio_documents_it(twilio):
    fake, url = twilio

    [receipt] = send(from_options(options(url)), TEXT)

    assert isinstance(receipt, Receipt)
    [message] = fake.sent
    assert receipt.provider_id == message["sid"]
    assert str(receipt.provider_id).startswith("SM")
    assert receipt.detail == "Twilio queued, 1 segment(s)"
    [request] = fake.received
    assert request.path == f"/2010-04-01/Accounts/{cloud.ACCOUNT_SID}/Messages.json"
    assert request.form == {"To": [ANN], "From": [cloud.FROM_NUMBER], "Body": [TEXT.body]}
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == basic(cloud.ACCOUNT_SID, cloud.AUTH_TOKEN)
    assert request.headers["user-agent"].startswith("OpenVisit/")


def test_a_messaging_service_sends_instead_of_a_number(twilio):
    fake, url = twilio
    transport = from_options(options(url, twilio_messaging_service_sid=cloud.MESSAGING_SERVICE_SID))

    [receipt] = send(transport, TEXT)

    assert isinstance(receipt, Receipt)
    assert fake.received[0].form == {
        "To": [ANN],
        "MessagingServiceSid": [cloud.MESSAGING_SERVICE_SID],
        "Body": [TEXT.body],
    }


def test_an_api_key_authenticates_in_place_of_the_auth_token(twilio):
    fake, url = twilio
    transport = from_options(
        options(
            url,
            twilio_auth_token=None,
            twilio_api_key_sid=cloud.API_KEY_SID,
            twilio_api_key_secret=SecretStr(cloud.API_KEY_SECRET),
        )
    )

    [receipt] = send(transport, TEXT)

    assert isinstance(receipt, Receipt)
    assert fake.received[0].headers["authorization"] == basic(
        cloud.API_KEY_SID, cloud.API_KEY_SECRET
    )
    # The path still names the account the key belongs to.
    assert fake.received[0].path.startswith(f"/2010-04-01/Accounts/{cloud.ACCOUNT_SID}/")


def test_an_invalid_number_fails_for_good_naming_twilios_code(twilio):
    fake, url = twilio

    [failure] = send(from_options(options(url)), TextMessage("+15551234", "Hi", "k"))

    assert isinstance(failure, PermanentFailure)
    assert failure.reason == ("Twilio error 21211 (HTTP 400): Invalid 'To' Phone Number: +15551234")
    assert fake.sent == []


def test_an_unsubscribed_recipient_fails_for_good(twilio):
    fake, url = twilio
    fake.unsubscribed.add(ANN)

    [failure] = send(from_options(options(url)), TEXT)

    assert isinstance(failure, PermanentFailure)
    assert "21610" in failure.reason
    assert "unsubscribed" in failure.reason


def test_a_sender_not_on_the_account_fails_for_good(twilio):
    _fake, url = twilio

    [failure] = send(from_options(options(url, twilio_from_number="+15005550001")), TEXT)

    assert isinstance(failure, PermanentFailure)
    assert "21606" in failure.reason


@pytest.mark.parametrize(
    "changes",
    [
        {"twilio_auth_token": SecretStr("not-the-token")},
        {"twilio_account_sid": "AC" + "9" * 32},  # the token is this account's, not that one
    ],
    ids=["wrong token", "wrong account"],
)
def test_refused_credentials_are_retried_and_say_what_to_check(twilio, changes):
    fake, url = twilio

    [failure] = send(from_options(options(url, **changes)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.reason.startswith("Twilio error 20003 (HTTP 401): Authentication Error")
    assert "check OPENVISIT_TWILIO_ACCOUNT_SID and OPENVISIT_TWILIO_AUTH_TOKEN" in failure.reason
    assert fake.sent == []


def test_too_many_requests_is_retried_after_twilios_hint(twilio):
    fake, url = twilio
    too_many = cloud.error_body(20429, 429, "Too Many Requests")
    fake.answer_next(cloud.Scripted(429, too_many, {"Retry-After": "7"}))

    failure, receipt = send(from_options(options(url)), TEXT, TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.retry_after_seconds == 7
    assert failure.reason == "Twilio error 20429 (HTTP 429): Too Many Requests"
    assert isinstance(receipt, Receipt)
    assert len(fake.received) == 2
    assert len(fake.sent) == 1


def test_a_retry_after_date_counts_from_the_clock(twilio):
    fake, url = twilio
    later = format_datetime(TEST_NOW + timedelta(seconds=90), usegmt=True)
    fake.answer_next(cloud.Scripted(503, None, {"Retry-After": later}))

    [failure] = send(from_options(options(url)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.retry_after_seconds == 90
    assert failure.reason == "Twilio HTTP 503"


def test_a_server_error_is_retried(twilio):
    fake, url = twilio
    fake.answer_next(cloud.Scripted(500, cloud.error_body(20500, 500, "Internal Server Error")))

    [failure] = send(from_options(options(url)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.retry_after_seconds is None
    assert "20500" in failure.reason


def test_a_full_sender_queue_is_retried_although_twilio_answers_400(twilio):
    fake, url = twilio
    full = cloud.error_body(21611, 400, "This 'From' number has exceeded the maximum queue.")
    fake.answer_next(cloud.Scripted(400, full))

    [failure] = send(from_options(options(url)), TEXT)

    assert isinstance(failure, TransientFailure)


def test_a_slow_answer_times_out_and_is_retried(twilio):
    fake, url = twilio
    fake.answer_next(cloud.Scripted(201, {"sid": "SMlate"}, delay_seconds=1.0))

    [failure] = send(from_options(options(url, sms_timeout_seconds=0.2)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.reason.startswith("Twilio did not answer within 0.2 s (ReadTimeout)")


def test_no_server_at_all_is_retried():
    closed = f"http://127.0.0.1:{free_port()}"

    [failure] = send(from_options(options(closed)), TEXT)

    assert isinstance(failure, TransientFailure)
    assert failure.reason.startswith("could not reach Twilio: ConnectError")


def test_a_number_not_in_e164_is_refused_before_any_request(twilio):
    fake, url = twilio

    [failure] = send(from_options(options(url)), TextMessage("201 555 0123", "Hi", "k"))

    assert isinstance(failure, PermanentFailure)
    assert fake.received == []


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"twilio_account_sid": None}, "OPENVISIT_TWILIO_ACCOUNT_SID"),
        ({"twilio_auth_token": SecretStr("")}, "OPENVISIT_TWILIO_AUTH_TOKEN"),
        ({"twilio_api_key_sid": "SKx", "twilio_auth_token": None}, "OPENVISIT_TWILIO_AUTH_TOKEN"),
        ({"twilio_from_number": ""}, "OPENVISIT_TWILIO_FROM_NUMBER or"),
    ],
)
def test_a_transport_missing_a_setting_is_refused(changes, missing):
    values = options("https://api.twilio.com", **changes)

    with pytest.raises(NotConfigured, match="the twilio SMS transport needs") as raised:
        from_options(values)

    assert missing in str(raised.value)
    assert options_problem(values) == str(raised.value)


def test_a_from_number_must_be_e164():
    with pytest.raises(NotConfigured, match=r"E\.164"):
        from_options(options("https://api.twilio.com", twilio_from_number="201 555 0100"))
