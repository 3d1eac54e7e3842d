"""Capability tokens in links: genuine ones verify, anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openvisit import link_tokens
from openvisit.link_tokens import InvalidLink

KEY = "a-secret-key-that-is-long-enough-for-tests-0123456789"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
APPOINTMENT = "0b5e4c1e-8d53-4a0f-9d7e-5a3b2c1d0e9f"


def token(
    *,
    purpose: str = "manage",
    subject: str = APPOINTMENT,
    version: int = 0,
    expires_at: datetime = LATER,
) -> str:
    return link_tokens.sign(KEY, purpose, subject, version=version, expires_at=expires_at)


def test_a_genuine_token_names_its_subject_version_and_expiry():
    claim = link_tokens.verify(KEY, "manage", token(version=3), now=NOW)
    assert (claim.subject, claim.version, claim.purpose) == (APPOINTMENT, 3, "manage")
    assert claim.expires_at == LATER


def test_a_token_is_short_enough_for_a_text_message_and_url_safe():
    value = token()
    assert len(value) < 100
    assert all(char.isalnum() or char in "-_." for char in value)


def test_an_expired_token_says_so():
    with pytest.raises(InvalidLink) as refused:
        link_tokens.verify(KEY, "manage", token(expires_at=NOW), now=NOW)
    assert refused.value.expired


@pytest.mark.parametrize(
    "tampered",
    [
        lambda value: value[:-1] + ("A" if value[-1] != "A" else "B"),  # the MAC
        lambda value: ("B" if value[0] != "B" else "C") + value[1:],  # the payload
        lambda value: value.replace(".", ""),
        lambda value: value + ".x",
        lambda _value: "",
        lambda value: "é" + value,
        lambda value: value.split(".")[0] + "." + "%%%",
        lambda _value: "x" * 600,
    ],
)
def test_a_tampered_token_is_invalid(tampered):
    with pytest.raises(InvalidLink) as refused:
        link_tokens.verify(KEY, "manage", tampered(token()), now=NOW)
    assert not refused.value.expired


def test_a_token_is_bound_to_its_purpose_and_key():
    with pytest.raises(InvalidLink):
        link_tokens.verify(KEY, "join", token(), now=NOW)
    with pytest.raises(InvalidLink):
        link_tokens.verify(KEY.upper(), "manage", token(), now=NOW)


def test_another_subjects_payload_with_this_mac_is_refused():
    mine, theirs = token(), token(subject="another-appointment")
    forged = theirs.split(".")[0] + "." + mine.split(".")[1]
    with pytest.raises(InvalidLink):
        link_tokens.verify(KEY, "manage", forged, now=NOW)


def test_the_separator_cannot_be_smuggled_into_a_subject():
    with pytest.raises(ValueError, match="may not contain"):
        token(subject="a~1~99999999999")
