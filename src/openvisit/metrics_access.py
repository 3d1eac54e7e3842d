"""Who may read `GET /metrics`: plain values from the settings, no web framework."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class MetricsAccess:
    """Who may read /metrics: bearer `token` (when set) from an address in `networks`."""

    token: str | None = None
    networks: tuple[Network, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.token) or bool(self.networks)

    def allows_address(self, host: str | None) -> bool:
        if not self.networks:
            return True  # the token alone guards it
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def allows_token(self, authorization: str | None) -> bool:
        if not self.token:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        )


def parse_networks(value: str | None) -> tuple[Network, ...]:
    """`127.0.0.1, 10.0.0.0/8` -> networks; raises ValueError naming a bad entry."""
    networks = []
    for entry in (value or "").split(","):
        if entry := entry.strip():
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as error:
                raise ValueError(f"'{entry}' is not an IP address or network") from error
    return tuple(networks)
