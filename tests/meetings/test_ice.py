"""meetings/ice.py: TURN REST credentials, their expiry, and the URI checks."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from openvisit.clock import FixedClock
from openvisit.meetings.ice import (
    MAX_TTL_SECONDS,
    STUN_SCHEMES,
    TURN_SCHEMES,
    IceConfig,
    RtcConfiguration,
    ice_servers,
    parse_urls,
    rtc_configuration,
    turn_credential,
)
from tests.conftest import TEST_NOW

SECRET = "correct horse battery staple"
TURN = ("turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349")


def _rfc2104_hmac_sha1(key: bytes, message: bytes) -> bytes:
    """HMAC written out from RFC 2104, so the check does not lean on the hmac module."""
    block = key.ljust(64, b"\0")
    # SHA-1 because coturn defines the TURN REST credential with it.
    inner = hashlib.sha1(bytes(b ^ 0x36 for b in block) + message).digest()  # noqa: S324
    return hashlib.sha1(bytes(b ^ 0x5C for b in block) + inner).digest()  # noqa: S324


def _turn(config: IceConfig, participant: str, now: datetime) -> dict[str, object]:
    return dict(ice_servers(config, participant, now)[-1])


def test_the_credential_is_the_base64_hmac_sha1_of_the_username():
    username, credential = turn_credential(SECRET, "consumer-1", 1796600000)

    assert username == "1796600000:consumer-1"
    expected = _rfc2104_hmac_sha1(SECRET.encode(), username.encode())
    assert credential == base64.b64encode(expected).decode()
    # As `printf %s 1796600000:consumer-1 | openssl dgst -sha1 -hmac "$SECRET" -binary | base64`
    assert credential == "bzBOrt4X0vQDaFQ1wTWVQ3rojss="


def test_turn_servers_get_a_username_that_expires_ttl_after_now():
    config = IceConfig(turn_urls=TURN, turn_secret=SECRET, ttl_seconds=3600)
    clock = FixedClock(TEST_NOW)

    first = _turn(config, "p_abc", clock.now())
    clock.advance(timedelta(minutes=30))
    later = _turn(config, "p_abc", clock.now())

    expiry = int(TEST_NOW.timestamp()) + 3600
    assert first["username"] == f"{expiry}:p_abc"
    assert later["username"] == f"{expiry + 1800}:p_abc"
    assert first["credential"] != later["credential"]
    assert first["urls"] == list(TURN)


def test_the_expiry_counts_from_the_whole_second_before_now():
    config = IceConfig(turn_urls=TURN, turn_secret=SECRET, ttl_seconds=60)
    now = datetime(2026, 11, 23, 14, 0, 0, 999_999, tzinfo=UTC)

    assert _turn(config, "p", now)["username"] == f"{int(TEST_NOW.timestamp()) + 60}:p"


def test_another_time_zone_gives_the_same_expiry():
    config = IceConfig(turn_urls=TURN, turn_secret=SECRET)
    local = TEST_NOW.astimezone(timezone(timedelta(hours=-5)))

    assert _turn(config, "p", local) == _turn(config, "p", TEST_NOW)


def test_each_participant_gets_their_own_credential():
    config = IceConfig(turn_urls=TURN, turn_secret=SECRET)

    consumer = _turn(config, "p_consumer", TEST_NOW)
    provider = _turn(config, "p_provider", TEST_NOW)

    assert consumer["username"] != provider["username"]
    assert consumer["credential"] != provider["credential"]


def test_a_naive_now_is_refused():
    config = IceConfig(turn_urls=TURN, turn_secret=SECRET)

    with pytest.raises(ValueError, match="aware"):
        ice_servers(config, "p", TEST_NOW.replace(tzinfo=None))


def test_no_servers_by_default():
    expected: RtcConfiguration = {"iceServers": [], "iceTransportPolicy": "all"}

    assert rtc_configuration(IceConfig(), "p", TEST_NOW) == expected


def test_stun_comes_without_credentials_and_before_turn():
    config = IceConfig(
        stun_urls=("stun:stun.example.org",),
        turn_urls=TURN,
        turn_secret=SECRET,
        ttl_seconds=MAX_TTL_SECONDS,
        transport_policy="relay",
    )

    configuration = rtc_configuration(config, "p", TEST_NOW)

    stun, turn = configuration["iceServers"]
    assert stun == {"urls": ["stun:stun.example.org"]}
    assert set(turn) == {"urls", "username", "credential"}
    assert configuration["iceTransportPolicy"] == "relay"


def test_the_secret_stays_out_of_the_config_repr():
    assert SECRET not in repr(IceConfig(turn_urls=TURN, turn_secret=SECRET))


@pytest.mark.parametrize("participant", ["", "a b", "tab\there", "x" * 257, "line\n"])
def test_a_participant_id_without_a_clean_name_is_refused(participant):
    with pytest.raises(ValueError, match="participant id"):
        turn_credential(SECRET, participant, 1796600000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"turn_urls": TURN}, "OPENVISIT_TURN_SECRET"),
        ({"turn_urls": TURN, "turn_secret": "short"}, "at least 16 characters"),
        ({"transport_policy": "relay"}, "needs OPENVISIT_TURN_URLS"),
        ({"ttl_seconds": 59}, "60 to 86400 seconds, not 59"),
        ({"ttl_seconds": MAX_TTL_SECONDS + 1}, "not 86401"),
        ({"stun_urls": ("turn:x.org",)}, "is not a STUN URI"),
    ],
)
def test_an_unusable_config_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        IceConfig(**kwargs)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("", ()),
        ("stun:stun.example.org", ("stun:stun.example.org",)),
        ("stun:a.example:3478, stun:192.0.2.1", ("stun:a.example:3478", "stun:192.0.2.1")),
        ("STUN:[2001:db8::1]:3478", ("stun:[2001:db8::1]:3478",)),
        ("stun:a.example stun:b.example,", ("stun:a.example", "stun:b.example")),
        ("stun:localhost.", ("stun:localhost.",)),
    ],
)
def test_stun_uris_are_split_and_kept(value, parsed):
    assert parse_urls(value, STUN_SCHEMES) == parsed


@pytest.mark.parametrize(
    "value",
    [
        "turn:turn.example.org",
        "turn:turn.example.org:3478?transport=udp",
        "turn:198.51.100.7?transport=TCP",
        "turns:turn.example.org:443?transport=tcp",
        "turns:[::1]",
    ],
)
def test_turn_uris_are_accepted(value):
    assert parse_urls(value, TURN_SCHEMES) == (value,)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("stun.example.org", "'stun.example.org' is not a STUN URI; write stun:host"),
        ("http://stun.example.org", "is not a STUN URI"),
        ("turn:x.org", "TURN servers go in OPENVISIT_TURN_URLS"),
        ("stun:", "the host is missing"),
        ("stun://stun.example.org", "is not a host name"),
        ("stun:bad_host.example", "'bad_host.example' is not a host name"),
        ("stun:-a.example", "is not a host name"),
        ("stun:300.1.1.1", "'300.1.1.1' is not an IPv4 address"),
        ("stun:[2001:db8::zz]", "is not an IPv6 address"),
        ("stun:a.example:0", "the port must be a number from 1 to 65535, not '0'"),
        ("stun:a.example:65536", "not '65536'"),
        ("stun:a.example:port", "not 'port'"),
        ("stun:a.example?transport=udp", "a STUN URI takes no ?query"),
    ],
)
def test_bad_stun_uris_are_refused_with_the_form_to_write(value, message):
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        parse_urls(value, STUN_SCHEMES)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("stun:x.org", "is not a TURN URI; write turn:host"),
        ("turn:x.org?transport=sctp", "must be ?transport=udp or ?transport=tcp"),
        ("turn:x.org?foo=bar", "not ?foo=bar"),
        ("turns:x.org?transport=udp", "must be ?transport=tcp, not ?transport=udp"),
        ("turn:x.org:3478:1", "not '3478:1'"),
    ],
)
def test_bad_turn_uris_are_refused(value, message):
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        parse_urls(value, TURN_SCHEMES)
