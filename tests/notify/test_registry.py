"""Transports are chosen by name; an unknown name stops the start with one clear line."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from openvisit.notify.messages import TextMessage
from openvisit.notify.transports import registry
from openvisit.notify.transports.acs import AcsTransport
from openvisit.notify.transports.outbox import OutboxTransport
from openvisit.notify.transports.provider_http import NotConfigured
from openvisit.notify.transports.registry import TransportOptions, UnknownTransport
from openvisit.notify.transports.twilio import TwilioTransport


def test_outbox_is_registered_for_both_channels(database, clock):
    options = TransportOptions(database, clock, {})

    email = registry.load_email_transport("outbox", options)
    sms = registry.load_sms_transport("outbox", options)

    assert isinstance(email, OutboxTransport)
    assert isinstance(sms, OutboxTransport)
    receipt = asyncio.run(sms.send_sms(TextMessage("+4915112345678", "Hi", "k")))
    assert receipt.provider_id is not None
    assert receipt.provider_id.startswith("outbox:")


def test_every_entry_names_a_factory_that_exists():
    for table in (registry.EMAIL_TRANSPORTS, registry.SMS_TRANSPORTS):
        for entry in table.values():
            module, _, name = entry.partition(":")
            assert callable(getattr(__import__(module, fromlist=[name]), name)), entry


def test_an_unknown_name_is_refused_naming_the_variable_and_the_choices(database, clock):
    options = TransportOptions(database, clock, {})

    with pytest.raises(UnknownTransport) as refused:
        registry.load_email_transport("pigeon", options)
    known = ", ".join(sorted(registry.EMAIL_TRANSPORTS))
    assert str(refused.value) == (
        "OPENVISIT_EMAIL_TRANSPORT is 'pigeon', which this OpenVisit does not provide; "
        f"use one of: {known}."
    )
    with pytest.raises(UnknownTransport, match=r"^OPENVISIT_SMS_TRANSPORT is 'smoke'"):
        registry.check_names("outbox", "smoke")
    registry.check_names("outbox", "outbox")


def test_the_sms_providers_are_built_from_their_settings(database, clock):
    twilio = {
        "twilio_account_sid": "AC" + "0" * 32,
        "twilio_auth_token": SecretStr("token"),
        "twilio_from_number": "+15005550006",
    }
    acs = {
        "acs_endpoint": "https://contoso.communication.azure.com",
        "acs_access_key": SecretStr("a2V5"),
        "acs_from_number": "+18005550100",
    }
    built = registry.load_sms_transport("twilio", TransportOptions(database, clock, twilio))
    assert isinstance(built, TwilioTransport)
    assert isinstance(
        registry.load_sms_transport("acs", TransportOptions(database, clock, acs)), AcsTransport
    )
    with pytest.raises(NotConfigured, match="OPENVISIT_ACS_"):
        registry.load_sms_transport("acs", TransportOptions(database, clock, {}))
