"""The SMTP transport's settings, read and checked without importing an SMTP client.

`config.py` checks them at start (`options_problem`), so this module stays free of
aiosmtplib: a server that keeps its mail in the outbox never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path
from typing import Final, Literal

from openvisit.notify.transports.provider_http import option

Security = Literal["starttls", "tls", "none"]
DEFAULT_PORTS: Final[Mapping[Security, int]] = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_TIMEOUT_SECONDS: Final = 20.0
DEFAULT_CONNECTIONS: Final = 2


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    from_address: str
    security: Security = "starttls"
    port: int | None = None  # None: the port of `security`
    username: str | None = None
    password: str | None = None
    from_name: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ca_file: str | None = None
    connections: int = DEFAULT_CONNECTIONS

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]


def options_problem(values: Mapping[str, object]) -> str | None:
    """What the settings lack for SMTP, as a sentence naming the variables; else None."""
    missing = [
        variable
        for name, variable in (
            ("smtp_host", "OPENVISIT_SMTP_HOST"),
            ("smtp_from_address", "OPENVISIT_SMTP_FROM_ADDRESS"),
        )
        if not option(values, name)
    ]
    if missing:
        return "the smtp e-mail transport needs " + " and ".join(missing)
    return _address_problem(option(values, "smtp_from_address") or "") or _auth_problem(values)


def _address_problem(address: str) -> str | None:
    try:
        parsed = Address(addr_spec=address)
    except (HeaderParseError, ValueError, IndexError):
        parsed = None
    if parsed is None or not parsed.username or not parsed.domain:
        return "OPENVISIT_SMTP_FROM_ADDRESS must be a bare address such as visits@example.org"
    return None


def _auth_problem(values: Mapping[str, object]) -> str | None:
    username, password = option(values, "smtp_username"), option(values, "smtp_password")
    if bool(username) != bool(password):
        return "OPENVISIT_SMTP_USERNAME and OPENVISIT_SMTP_PASSWORD are set together or not at all"
    # AUTH over a plain connection hands the password to anyone on the path; a relay
    # that needs no TLS is one on this host or network, and it needs no password either.
    if username and _security(values) == "none":
        return (
            "OPENVISIT_SMTP_USERNAME with OPENVISIT_SMTP_SECURITY=none would send the password "
            "in clear; use starttls or tls"
        )
    ca_file = option(values, "smtp_ca_file")
    if ca_file and not Path(ca_file).is_file():
        return f"OPENVISIT_SMTP_CA_FILE names no file: {ca_file}"
    return None


def _security(values: Mapping[str, object]) -> Security:
    value = option(values, "smtp_security") or "starttls"
    for mode in DEFAULT_PORTS:
        if value == mode:
            return mode
    raise ValueError(f"OPENVISIT_SMTP_SECURITY is {value!r}; use starttls, tls or none")


def config_from(values: Mapping[str, object]) -> SmtpConfig:
    """The settings by field name (SecretStr or plain text) as an SmtpConfig."""
    port = values.get("smtp_port")
    timeout = values.get("smtp_timeout_seconds")
    connections = values.get("smtp_connections")
    return SmtpConfig(
        host=option(values, "smtp_host") or "",
        from_address=option(values, "smtp_from_address") or "",
        security=_security(values),
        port=int(port) if isinstance(port, int | str) and str(port).strip() else None,
        username=option(values, "smtp_username"),
        password=option(values, "smtp_password"),
        from_name=option(values, "smtp_from_name"),
        timeout_seconds=float(timeout)
        if isinstance(timeout, int | float | str)
        else DEFAULT_TIMEOUT_SECONDS,
        ca_file=option(values, "smtp_ca_file"),
        connections=int(connections) if isinstance(connections, int | str) else DEFAULT_CONNECTIONS,
    )
