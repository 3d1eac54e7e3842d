"""A provider chosen without its settings stops the start, naming what is missing."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from openvisit.config import Settings
from openvisit.notify.transports import acs, twilio
from openvisit.startup import explain

TWILIO: dict[str, Any] = {
    "twilio_account_sid": "AC" + "0" * 32,
    "twilio_auth_token": "token-of-the-account",
    "twilio_from_number": "+15005550006",
}
ACS: dict[str, Any] = {
    "acs_endpoint": "https://contoso.communication.azure.com",
    "acs_access_key": "c2VjcmV0LWtleS1vZi10aGUtcmVzb3VyY2U=",
    "acs_from_number": "+18005550100",
}


def test_twilio_without_a_token_is_refused_with_one_line():
    with pytest.raises(ValidationError) as raised:
        Settings(sms_transport="twilio", twilio_account_sid="AC" + "0" * 32)

    assert explain(raised.value) == (
        "OPENVISIT_SMS_TRANSPORT: Value error, the twilio SMS transport needs "
        "OPENVISIT_TWILIO_AUTH_TOKEN (or OPENVISIT_TWILIO_API_KEY_SID with "
        "OPENVISIT_TWILIO_API_KEY_SECRET); OPENVISIT_TWILIO_FROM_NUMBER or "
        "OPENVISIT_TWILIO_MESSAGING_SERVICE_SID (got 'twilio'). Fix or unset the variable "
        "(see docs/operations.md)."
    )


def test_acs_with_a_damaged_key_is_refused_without_repeating_it():
    with pytest.raises(ValidationError) as raised:
        Settings(sms_transport="acs", **{**ACS, "acs_access_key": "half a key=="})

    message = explain(raised.value) or ""
    assert "OPENVISIT_ACS_ACCESS_KEY is not a base64 access key" in message
    assert "half a key" not in message


def test_the_outbox_needs_no_provider_settings():
    assert Settings().sms_transport == "outbox"


@pytest.mark.parametrize(("module", "values"), [(twilio, TWILIO), (acs, ACS)])
def test_a_configured_provider_builds_from_the_settings_and_masks_its_secrets(module, values):
    name = module.__name__.rsplit(".", 1)[-1]
    settings = Settings(sms_transport=name, **values)

    transport = module.from_options(dict(settings))

    assert transport.name == name
    secret = next(key for key in values if key.endswith(("_token", "_key")))
    assert settings.masked()[secret] == "**********"
