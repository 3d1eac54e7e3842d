"""Which address is the client's: the direct peer unless it is a trusted proxy, and then
X-Forwarded-For read from the right past trusted hops only."""

from __future__ import annotations

import pytest

from openvisit.addresses import client_address, parse_networks
from openvisit.config import Settings

PROXIES = parse_networks("10.0.0.0/8, 192.168.1.1 fd00::/8")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # No header: the peer.
        ("198.51.100.1", [], "198.51.100.1"),
        # A spoofed header from an untrusted peer is ignored.
        ("198.51.100.1", ["10.0.0.1"], "198.51.100.1"),
        ("198.51.100.1", ["203.0.113.5, 10.0.0.1"], "198.51.100.1"),
        # One trusted proxy: the address it appended.
        ("10.0.0.1", ["203.0.113.5"], "203.0.113.5"),
        # The client wrote its own header; the proxy appended the real peer: rightmost wins.
        ("10.0.0.1", ["1.2.3.4, 203.0.113.5"], "203.0.113.5"),
        # Two trusted hops, in one header or in two headers.
        ("10.0.0.1", ["1.2.3.4, 203.0.113.5, 192.168.1.1"], "203.0.113.5"),
        ("10.0.0.1", ["1.2.3.4, 203.0.113.5", "192.168.1.1"], "203.0.113.5"),
        # Every hop trusted: the leftmost.
        ("10.0.0.1", ["10.0.0.2, 10.0.0.3"], "10.0.0.2"),
        # A hop that is no address stops at the last trusted one.
        ("10.0.0.1", ["203.0.113.5, unknown"], "10.0.0.1"),
        ("10.0.0.1", ["  "], "10.0.0.1"),
        # IPv6 and IPv4-mapped peers.
        ("fd00::1", ["2001:db8::7"], "2001:db8::7"),
        ("::ffff:10.0.0.1", ["203.0.113.5"], "203.0.113.5"),
        ("::ffff:198.51.100.1", ["203.0.113.5"], "198.51.100.1"),
        # No IP peer at all (a test client, a Unix socket): its name, never the header.
        ("testclient", ["203.0.113.5"], "testclient"),
        (None, ["203.0.113.5"], None),
    ],
)
def test_client_address(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_header_is_never_read():
    assert client_address("10.0.0.1", ["203.0.113.5"], ()) == "10.0.0.1"


def test_trusted_proxies_setting_is_validated(monkeypatch):
    for name in ("OPENVISIT_TRUSTED_PROXIES", "OPENVISIT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().trusted_proxies == ""
    assert Settings(trusted_proxies="10.0.0.0/8 ::1").trusted_proxies == "10.0.0.0/8 ::1"

    with pytest.raises(ValueError, match="not an IP address or CIDR network"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.example")
