"""Join links are capabilities: one meeting, one role, expiring, revocable by version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openvisit import join_links
from openvisit.consumer_links import manage_token
from openvisit.join_links import JOIN_VALID_AFTER_END, join_token, read_join_token
from openvisit.link_tokens import InvalidLink

KEY = "k" * 32
END = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
BEFORE = END - timedelta(days=3)


def test_a_consumer_token_names_its_meeting_role_and_version() -> None:
    token = join_token(KEY, "m1", role="consumer", version=3, end=END)
    claim = read_join_token(KEY, token, now=BEFORE)
    assert (claim.meeting_id, claim.role, claim.guest_id, claim.version) == (
        "m1",
        "consumer",
        None,
        3,
    )
    assert claim.participant_key == "consumer"
    assert claim.expires_at == END + JOIN_VALID_AFTER_END


def test_two_guests_are_two_participants() -> None:
    first = read_join_token(
        KEY, join_token(KEY, "m1", role="guest", version=0, end=END, guest_id="g1"), now=BEFORE
    )
    second = read_join_token(
        KEY, join_token(KEY, "m1", role="guest", version=0, end=END, guest_id="g2"), now=BEFORE
    )
    assert (first.participant_key, second.participant_key) == ("guest:g1", "guest:g2")


def test_a_token_expires_hours_after_the_end() -> None:
    token = join_token(KEY, "m1", role="consumer", version=0, end=END)
    read_join_token(KEY, token, now=END + JOIN_VALID_AFTER_END - timedelta(seconds=1))
    with pytest.raises(InvalidLink) as caught:
        read_join_token(KEY, token, now=END + JOIN_VALID_AFTER_END)
    assert caught.value.expired


def test_a_tampered_token_or_another_key_is_refused() -> None:
    token = join_token(KEY, "m1", role="consumer", version=0, end=END)
    mac = token.split(".")[1]
    forged = join_token("other" * 8, "m2", role="consumer", version=0, end=END).split(".")[0]
    for bad in (f"{forged}.{mac}", token[:-1] + ("A" if token[-1] != "A" else "B"), "", "x.y"):
        with pytest.raises(InvalidLink):
            read_join_token(KEY, bad, now=BEFORE)
    with pytest.raises(InvalidLink):
        read_join_token("other" * 8, token, now=BEFORE)


def test_a_manage_token_is_not_a_join_token() -> None:
    with pytest.raises(InvalidLink):
        read_join_token(KEY, manage_token(KEY, "m1/consumer", version=0, end=END), now=BEFORE)


def test_a_guest_token_needs_a_guest_id_and_ids_cannot_smuggle_a_role() -> None:
    with pytest.raises(ValueError, match="guest id"):
        join_token(KEY, "m1", role="guest", version=0, end=END)
    with pytest.raises(ValueError, match="guest id"):
        join_token(KEY, "m1", role="consumer", version=0, end=END, guest_id="g")
    with pytest.raises(ValueError, match="may not contain"):
        join_token(KEY, "m1/consumer", role="guest", version=0, end=END, guest_id="g")


def test_urls() -> None:
    assert join_links.join_url("https://x", "t") == "https://x/join/t"
    assert join_links.device_check_url("https://x", "t") == "https://x/join/t/check"
    assert join_links.staff_join_url("https://x", "m") == "https://x/visits/m"
