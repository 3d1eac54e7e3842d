"""SMTP chosen without what it needs stops the start with one line naming the variables;
chosen with it, the registry builds the transport from the settings."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from openvisit.clock import FixedClock
from openvisit.config import Settings
from openvisit.delivery import transport_values
from openvisit.notify.transports import registry
from openvisit.notify.transports.provider_http import NotConfigured
from openvisit.notify.transports.smtp import SmtpTransport, from_options
from openvisit.notify.transports.smtp_config import config_from
from openvisit.startup import explain
from tests.conftest import TEST_NOW

SMTP: dict[str, Any] = {
    "email_transport": "smtp",
    "smtp_host": "mail.example.org",
    "smtp_from_address": "visits@example.org",
}


def refusal(**values: Any) -> str:
    with pytest.raises(ValidationError) as raised:
        Settings(**values)
    return explain(raised.value) or ""


def test_smtp_without_a_host_or_sender_is_refused_with_one_line():
    assert refusal(email_transport="smtp") == (
        "OPENVISIT_EMAIL_TRANSPORT: Value error, the smtp e-mail transport needs "
        "OPENVISIT_SMTP_HOST and OPENVISIT_SMTP_FROM_ADDRESS (got 'smtp'). Fix or unset the "
        "variable (see docs/operations.md)."
    )


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"smtp_from_address": "Visits <visits@example.org>"}, "must be a bare address"),
        ({"smtp_from_address": "visits"}, "must be a bare address"),
        ({"smtp_username": "visits"}, "are set together or not at all"),
        (
            {"smtp_security": "none", "smtp_username": "u", "smtp_password": "p"},
            "would send the password in clear",
        ),
        ({"smtp_ca_file": "/nonexistent/ca.pem"}, "OPENVISIT_SMTP_CA_FILE names no file"),
    ],
)
def test_unusable_smtp_settings_are_refused(changes, words):
    message = refusal(**{**SMTP, **changes})

    assert message.startswith("OPENVISIT_EMAIL_TRANSPORT: Value error, ")
    assert words in message


def test_the_outbox_needs_no_smtp_settings():
    assert Settings().email_transport == "outbox"


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("tls", 465), ("none", 25)])
def test_the_port_follows_the_security_unless_set(security, port):
    settings = Settings(**SMTP, smtp_security=security)

    assert config_from(transport_values(settings)).effective_port == port
    chosen = Settings(**SMTP, smtp_security=security, smtp_port=2525)
    assert config_from(transport_values(chosen)).effective_port == 2525


def test_the_registry_builds_smtp_from_the_settings_and_masks_the_password(tmp_path):
    settings = Settings(**SMTP, smtp_username="visits", smtp_password="s3cret-pass")
    options = registry.TransportOptions(
        db=None,  # type: ignore[arg-type]  # the SMTP factory never touches the database
        clock=FixedClock(TEST_NOW),
        values=transport_values(settings),
    )

    transport = registry.load_email_transport("smtp", options)

    assert isinstance(transport, SmtpTransport)
    assert settings.masked()["smtp_password"] == "**********"
    assert "s3cret-pass" not in str(settings.masked())


def test_a_ca_file_that_holds_no_certificates_is_refused_at_build(tmp_path):
    damaged = tmp_path / "ca.pem"
    damaged.write_text("not a certificate")

    with pytest.raises(NotConfigured, match="holds no usable PEM certificates"):
        from_options({**SMTP, "smtp_ca_file": str(damaged)})
