"""The ICE settings: read from OPENVISIT_*, refused with one clear line, carried to the
runtime that the WebSocket hands each participant's RTCConfiguration from."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from openvisit import startup
from openvisit.app import build_runtime
from openvisit.config import Settings
from openvisit.meetings.ice import IceConfig, rtc_configuration
from tests.conftest import TEST_NOW

SECRET = "0123456789abcdef0123456789abcdef"


def _problem(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]
    message = startup.explain(caught.value)
    assert message is not None
    return message


def test_the_settings_give_the_ice_config(monkeypatch):
    monkeypatch.setenv("OPENVISIT_STUN_URLS", "stun:stun.example.org:3478")
    monkeypatch.setenv(
        "OPENVISIT_TURN_URLS", "turn:t.example.org?transport=udp, turns:t.example.org"
    )
    monkeypatch.setenv("OPENVISIT_TURN_SECRET", SECRET)
    monkeypatch.setenv("OPENVISIT_TURN_CREDENTIAL_TTL_SECONDS", "7200")
    monkeypatch.setenv("OPENVISIT_ICE_TRANSPORT_POLICY", "Relay")

    assert Settings().ice_config == IceConfig(
        stun_urls=("stun:stun.example.org:3478",),
        turn_urls=("turn:t.example.org?transport=udp", "turns:t.example.org"),
        turn_secret=SECRET,
        ttl_seconds=7200,
        transport_policy="relay",
    )


def test_by_default_there_are_no_ice_servers(tmp_path):
    runtime = build_runtime(Settings(data_dir=tmp_path))

    assert runtime.ice == IceConfig()
    assert rtc_configuration(runtime.ice, "p_1", TEST_NOW)["iceServers"] == []


def test_the_runtime_carries_the_configured_servers(tmp_path):
    settings = Settings(data_dir=tmp_path, turn_urls="turn:127.0.0.1:3478", turn_secret=SECRET)

    servers = rtc_configuration(build_runtime(settings).ice, "p_1", TEST_NOW)["iceServers"]

    assert servers[0]["urls"] == ["turn:127.0.0.1:3478"]
    assert servers[0]["username"].endswith(":p_1")


def test_turn_urls_without_the_secret_are_refused():
    assert _problem(turn_urls="turn:t.example.org") == (
        "OPENVISIT_TURN_URLS: Value error, TURN servers need the shared secret that signs "
        "their credentials: set OPENVISIT_TURN_SECRET to coturn's static-auth-secret "
        "(got 'turn:t.example.org'). Fix or unset the variable (see docs/operations.md)."
    )


def test_a_bad_uri_is_named_with_the_form_to_write():
    message = _problem(stun_urls="stun:ok.example, stun.example.org")

    assert message.startswith(
        "OPENVISIT_STUN_URLS: Value error, 'stun.example.org' is not a STUN URI; "
        "write stun:host[:port]"
    )


def test_a_short_secret_is_refused_without_echoing_it():
    message = _problem(turn_secret="hunter2hunter2")

    assert message.startswith("OPENVISIT_TURN_SECRET: Value error, the TURN secret must have")
    assert "hunter2" not in message


def test_relay_needs_turn_servers():
    assert "the relay policy sends all media through TURN" in _problem(ice_transport_policy="relay")
    assert "OPENVISIT_ICE_TRANSPORT_POLICY: Input should be 'all' or 'relay'" in _problem(
        ice_transport_policy="none"
    )


@pytest.mark.parametrize("seconds", [59, 86_401])
def test_the_credential_lifetime_is_bounded(seconds):
    assert _problem(turn_credential_ttl_seconds=seconds).startswith(
        "OPENVISIT_TURN_CREDENTIAL_TTL_SECONDS: Input should be"
    )


def test_config_masks_the_turn_secret(tmp_path):
    masked = Settings(
        data_dir=tmp_path, turn_urls="turn:t.example.org", turn_secret=SECRET
    ).masked()

    assert SECRET not in str(masked)
    assert masked["turn_urls"] == "turn:t.example.org"
