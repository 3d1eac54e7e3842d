"""build_mime without a server: the cases the SMTP tests do not send."""

from __future__ import annotations

import email
import email.message
import email.policy

import pytest

from openvisit.notify.messages import Attachment, EmailMessage
from openvisit.notify.transports.mime import POLICY, Sender, build_mime, envelope, masked
from tests.conftest import TEST_NOW

CANCEL = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"


def message(**changes: object) -> EmailMessage:
    values: dict[str, object] = {
        "to_address": "ann@example.test",
        "to_name": None,
        "subject": "Cancelled: your visit",
        "text": "Your visit was cancelled.",
        "html": None,
        "message_id": "<a1.cancelled.0@openvisit.test>",
        "idempotency_key": "a1:cancelled:0",
    }
    return EmailMessage(**{**values, **changes})  # type: ignore[arg-type]


def parsed(item: EmailMessage) -> email.message.EmailMessage:
    data = build_mime(item, sender=Sender("visits@example.org"), date=TEST_NOW).as_bytes(
        policy=POLICY
    )
    found = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(found, email.message.EmailMessage)
    return found


def test_the_calendar_method_comes_from_the_file_when_the_part_names_none():
    built = parsed(message(calendar=Attachment("invite.ics", "text/calendar", CANCEL)))

    alternative, invite = built.iter_parts()
    _text, calendar = alternative.iter_parts()
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "CANCEL"
    assert invite.get_content_type() == "application/ics"


def test_attachments_without_html_or_calendar_make_a_mixed_message():
    leaflet = Attachment("leaflet.pdf", "application/pdf", b"%PDF-1.4")

    built = parsed(message(attachments=(leaflet,)))

    assert built.get_content_type() == "multipart/mixed"
    text, attached = built.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert (attached.get_filename(), attached.get_content()) == ("leaflet.pdf", b"%PDF-1.4")
    assert [part["MIME-Version"] for part in built.walk()] == ["1.0", None, None]


@pytest.mark.parametrize("name", ["From", "message-id", "Content-Type"])
def test_extra_headers_may_not_replace_the_transports_own(name):
    with pytest.raises(ValueError, match="is the transport's to write"):
        build_mime(
            message(headers=((name, "x"),)), sender=Sender("visits@example.org"), date=TEST_NOW
        )


def test_an_internationalized_domain_goes_out_in_its_ascii_form():
    assert envelope("ann@bücher.example") == "ann@xn--bcher-kva.example"
    assert parsed(message(to_address="ann@bücher.example"))["To"] == "ann@xn--bcher-kva.example"


def test_a_masked_address_keeps_the_domain_and_one_letter():
    assert masked("ann.customer@example.test") == "a***@example.test"
    assert masked("nobody") == "***"
