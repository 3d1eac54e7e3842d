"""Which address a request comes from, behind zero or more trusted reverse proxies.

The direct peer of the TCP connection is the only address nobody can forge. A proxy in
front of the server puts the address it saw into `X-Forwarded-For`, and appends to what
the client sent, so the header's left part is whatever the client chose to write. The
header is therefore read only when the direct peer is a configured trusted proxy, and
only from the right: each hop is believed while the address that handed it over is
trusted, and the first untrusted address met is the client. A bare `X-Forwarded-For`
from an untrusted peer is ignored.

Pure stdlib, so any transport (sign-in now, the booking pages later) can reuse it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Longest textual IPv6 address is 45 characters; anything longer is not an address.
_MAX_ADDRESS_LENGTH = 64
# What is kept of a User-Agent header: enough to tell browsers apart, bounded for storage.
MAX_USER_AGENT_LENGTH = 512


@dataclass(frozen=True)
class Client:
    """Who is on the other end of a request, as far as the server can tell."""

    address: str | None
    user_agent: str | None


def parse_networks(value: str | Iterable[str] | None) -> tuple[IPNetwork, ...]:
    """Networks from "10.0.0.1, 192.168.0.0/16 ::1" (commas or spaces); ValueError if bad."""
    if value is None:
        return ()
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    networks: list[IPNetwork] = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from error
    return tuple(networks)


def parse_address(value: str | None) -> IPAddress | None:
    """The IP address in `value`, with IPv4-mapped IPv6 read as IPv4; None if not one."""
    if not value or len(value) > _MAX_ADDRESS_LENGTH:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress | None, trusted: Sequence[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str | None:
    """The client's address given the direct `peer`, every `X-Forwarded-For` header value
    (in the order received) and the trusted proxy networks.

    Without trusted proxies, or when the peer is not one, the peer is the answer. Otherwise
    hops are taken from the right while the current address is trusted. A hop that is not
    an IP address stops the walk at the last trusted one (a broken proxy must not let a
    client pick its own address).
    """
    peer_address = parse_address(peer)
    if not _is_trusted(peer_address, trusted):
        return str(peer_address) if peer_address is not None else _bounded(peer)
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    current = peer_address
    for hop in reversed(hops):
        if not _is_trusted(current, trusted):
            break
        hop_address = parse_address(hop)
        if hop_address is None:
            break
        current = hop_address
    return str(current)


def _bounded(value: str | None) -> str | None:
    # A test client or a Unix socket has no IP address; keep its name, bounded.
    return value[:_MAX_ADDRESS_LENGTH] if value else None


def bounded_user_agent(value: str | None) -> str | None:
    return value[:MAX_USER_AGENT_LENGTH] if value else None
