"""Who may read `GET /metrics`: plain values from the settings, no web framework."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from openvisit.addresses import IPNetwork


@dataclass(frozen=True)
class MetricsAccess:
    """Who may read /metrics: bearer `token` (when set) from an address in `networks`."""

    token: str | None = None
    networks: tuple[IPNetwork, ...] = ()

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
