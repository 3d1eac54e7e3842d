"""ICE servers for a call: STUN and TURN addresses, with TURN REST credentials.

Pure functions, no I/O. The browser (or an aiortc peer) gets an `RTCConfiguration` built
here when it joins; media then flows between the peers directly or through the TURN relay,
never through this process.

TURN credentials follow the TURN REST API convention that coturn implements with
`--use-auth-secret`: the username is `<unix expiry>:<participant id>` and the credential
is base64(HMAC-SHA1(shared secret, username)). coturn recomputes the HMAC with the secret
it shares with us and refuses a username whose expiry has passed, so a credential handed
to one participant stops working by itself and no credential is ever stored.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NotRequired, TypedDict

TransportPolicy = Literal["all", "relay"]

STUN_SCHEMES = ("stun",)
TURN_SCHEMES = ("turn", "turns")
DEFAULT_TTL_SECONDS = 4 * 3600
# coturn checks the expiry when a relay is allocated. A page allocates again on every ICE
# restart (a network drop) with the credential it joined with, so that must outlive the
# longest visit; past a day a leaked one would serve a stranger's relay for too long.
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 24 * 3600
# coturn's shared secret is a password for every relay; a short one can be guessed offline
# from one credential (the HMAC of a known username).
MIN_SECRET_LENGTH = 16
MAX_PARTICIPANT_ID_LENGTH = 256

_URI = re.compile(
    r"(?P<scheme>[A-Za-z]+):(?P<host>\[[^\]]*\]|[^:?\[\]]*)(?::(?P<port>[^?]*))?"
    r"(?:\?(?P<query>.*))?",
    re.DOTALL,
)
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


class IceServer(TypedDict):
    """One RTCIceServer dictionary, as `new RTCPeerConnection({iceServers})` takes it."""

    urls: list[str]
    username: NotRequired[str]
    credential: NotRequired[str]


class RtcConfiguration(TypedDict):
    iceServers: list[IceServer]
    iceTransportPolicy: TransportPolicy


@dataclass(frozen=True)
class IceConfig:
    """What the settings say about ICE; the default has no servers (loopback and LAN only)."""

    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = field(default=None, repr=False)
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    transport_policy: TransportPolicy = "all"

    def __post_init__(self) -> None:
        parse_urls(",".join(self.stun_urls), STUN_SCHEMES)
        parse_urls(",".join(self.turn_urls), TURN_SCHEMES)
        problem = (
            check_ttl(self.ttl_seconds)
            or check_secret(self.turn_secret)
            or check_turn(self.turn_urls, self.turn_secret)
            or check_policy(self.transport_policy, self.turn_urls)
        )
        if problem is not None:
            raise ValueError(problem)


def parse_urls(value: str, schemes: tuple[str, ...]) -> tuple[str, ...]:
    """Split a comma- or space-separated list of STUN or TURN URIs and check each.

    Raises ValueError naming the first bad URI and the form it should take (RFC 7064,
    RFC 7065). Schemes are lower-cased; everything else is kept as written.
    """
    return tuple(check_url(item, schemes) for item in re.split(r"[,\s]+", value) if item)


def check_url(url: str, schemes: tuple[str, ...]) -> str:
    form = " or ".join(f"{scheme}:host[:port]" for scheme in schemes)
    if schemes == TURN_SCHEMES:
        form += " (with ?transport=udp or ?transport=tcp if needed)"
    match = _URI.fullmatch(url)
    if match is None:
        raise ValueError(f"{url!r} is not a {_kind(schemes)} URI; write {form}")
    scheme = match["scheme"].lower()
    if scheme not in schemes:
        hint = "; TURN servers go in OPENVISIT_TURN_URLS" if scheme in TURN_SCHEMES else ""
        raise ValueError(f"{url!r} is not a {_kind(schemes)} URI; write {form}{hint}")
    problem = _host_problem(match["host"]) or _port_problem(match["port"]) or _query_problem(match)
    if problem is not None:
        raise ValueError(f"{url!r}: {problem}; write {form}")
    return scheme + url[len(scheme) :]


def _kind(schemes: tuple[str, ...]) -> str:
    return "TURN" if schemes == TURN_SCHEMES else "STUN"


def _host_problem(host: str) -> str | None:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f"{host} is not an IPv6 address"
        return None
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"{host!r} is not an IPv4 address"
        return None
    labels = host.removesuffix(".").split(".")
    if not host or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return f"{host!r} is not a host name" if host else "the host is missing"
    return None


def _port_problem(port: str | None) -> str | None:
    if port is None:
        return None
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return f"the port must be a number from 1 to 65535, not {port!r}"
    return None


def _query_problem(match: re.Match[str]) -> str | None:
    query = match["query"]
    if query is None:
        return None
    scheme = match["scheme"].lower()
    if scheme not in TURN_SCHEMES:
        return "a STUN URI takes no ?query"
    # turns: over UDP would be DTLS, which browsers do not speak to TURN servers.
    allowed = ("transport=tcp",) if scheme == "turns" else ("transport=udp", "transport=tcp")
    if query.lower() not in allowed:
        return f"the query must be ?{' or ?'.join(allowed)}, not ?{query}"
    return None


def check_ttl(seconds: int) -> str | None:
    if not MIN_TTL_SECONDS <= seconds <= MAX_TTL_SECONDS:
        return (
            f"the TURN credential lifetime must be {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS} "
            f"seconds, not {seconds}"
        )
    return None


def check_secret(secret: str | None) -> str | None:
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        return (
            f"the TURN secret must have at least {MIN_SECRET_LENGTH} characters "
            "(the static-auth-secret of coturn; `openssl rand -hex 32` makes one)"
        )
    return None


def check_turn(turn_urls: Sequence[str], secret: str | None) -> str | None:
    if turn_urls and not secret:
        return (
            "TURN servers need the shared secret that signs their credentials: set "
            "OPENVISIT_TURN_SECRET to coturn's static-auth-secret"
        )
    return None


def check_policy(policy: str, turn_urls: Sequence[str]) -> str | None:
    if policy == "relay" and not turn_urls:
        return (
            "the relay policy sends all media through TURN, so it needs OPENVISIT_TURN_URLS; "
            "without TURN servers use all"
        )
    return None


def turn_credential(secret: str, participant_id: str, expires_at: int) -> tuple[str, str]:
    """The TURN REST (username, credential) pair valid until the unix time `expires_at`."""
    _check_participant(participant_id)
    username = f"{expires_at}:{participant_id}"
    # SHA-1 is what coturn computes for a REST credential; HMAC-SHA1 is not broken as a MAC.
    digest = hmac.new(secret.encode(), username.encode(), "sha1").digest()
    return username, base64.b64encode(digest).decode("ascii")


def _check_participant(participant_id: str) -> None:
    # The id ends up in a STUN USERNAME attribute and in coturn's log: no spaces, no controls.
    if not participant_id or len(participant_id) > MAX_PARTICIPANT_ID_LENGTH:
        raise ValueError(f"a participant id has 1 to {MAX_PARTICIPANT_ID_LENGTH} characters")
    if not participant_id.isprintable() or any(char.isspace() for char in participant_id):
        raise ValueError("a participant id has no spaces or control characters")


def ice_servers(config: IceConfig, participant_id: str, now: datetime) -> list[IceServer]:
    """The RTCIceServer list for one participant joining at `now` (an aware datetime).

    STUN servers come as one entry without credentials; TURN servers as one entry with a
    credential of this participant's that expires `config.ttl_seconds` after `now`.
    """
    if now.tzinfo is None:
        raise ValueError("ice_servers needs an aware datetime")
    servers: list[IceServer] = []
    if config.stun_urls:
        servers.append({"urls": list(config.stun_urls)})
    if config.turn_urls:
        secret = config.turn_secret or ""  # IceConfig refuses TURN URLs without one
        expires_at = int(now.timestamp()) + config.ttl_seconds
        username, credential = turn_credential(secret, participant_id, expires_at)
        servers.append(
            {"urls": list(config.turn_urls), "username": username, "credential": credential}
        )
    return servers


def rtc_configuration(config: IceConfig, participant_id: str, now: datetime) -> RtcConfiguration:
    """The whole RTCConfiguration a participant's page (or aiortc peer) starts with."""
    return {
        "iceServers": ice_servers(config, participant_id, now),
        "iceTransportPolicy": config.transport_policy,
    }
