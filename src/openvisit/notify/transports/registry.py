"""Transports chosen by configuration name, as Radicale picks its storage and hooks.

`OPENVISIT_EMAIL_TRANSPORT` and `OPENVISIT_SMS_TRANSPORT` name an entry of the tables
below; each entry is `module:factory`, imported only when chosen, so a server that keeps
its mail in the outbox never imports an SMTP or HTTP client. A factory takes
`TransportOptions` and returns a transport (transports/base.py), raising ValueError
with a sentence naming the OPENVISIT_* variable when its settings cannot work, which
the command prints as `openvisit: ...` before it starts.

A new transport is one line in a table.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openvisit.clock import Clock
from openvisit.notify.transports.base import EmailTransport, SmsTransport
from openvisit.notify.transports.outbox import OutboxTransport
from openvisit.store.db import Database

EMAIL_TRANSPORTS: Mapping[str, str] = {
    "outbox": "openvisit.notify.transports.registry:outbox",
    "smtp": "openvisit.notify.transports.registry:smtp",
}
SMS_TRANSPORTS: Mapping[str, str] = {
    "outbox": "openvisit.notify.transports.registry:outbox",
    "twilio": "openvisit.notify.transports.registry:twilio",
    "acs": "openvisit.notify.transports.registry:acs",
}


@dataclass(frozen=True)
class TransportOptions:
    """What a factory may use: the database, the clock, and every setting by field name
    (`smtp_host`, ...), secrets unwrapped."""

    db: Database
    clock: Clock
    values: Mapping[str, object]


class UnknownTransport(ValueError):
    """A configured transport name no table holds."""


def outbox(options: TransportOptions) -> OutboxTransport:
    return OutboxTransport(options.db, options.clock)


def smtp(options: TransportOptions) -> EmailTransport:
    from openvisit.notify.transports import smtp as module  # noqa: PLC0415 - only when chosen

    return module.from_options({**options.values, "clock": options.clock})


def twilio(options: TransportOptions) -> SmsTransport:
    from openvisit.notify.transports import twilio as module  # noqa: PLC0415 - only when chosen

    return module.from_options({**options.values, "clock": options.clock})


def acs(options: TransportOptions) -> SmsTransport:
    from openvisit.notify.transports import acs as module  # noqa: PLC0415 - only when chosen

    return module.from_options({**options.values, "clock": options.clock})


def check_names(email: str, sms: str) -> None:
    """Refuse an unknown name at start, before anything is built."""
    _entry(EMAIL_TRANSPORTS, email, "OPENVISIT_EMAIL_TRANSPORT")
    _entry(SMS_TRANSPORTS, sms, "OPENVISIT_SMS_TRANSPORT")


def load_email_transport(name: str, options: TransportOptions) -> EmailTransport:
    transport: EmailTransport = _build(EMAIL_TRANSPORTS, name, "OPENVISIT_EMAIL_TRANSPORT", options)
    return transport


def load_sms_transport(name: str, options: TransportOptions) -> SmsTransport:
    transport: SmsTransport = _build(SMS_TRANSPORTS, name, "OPENVISIT_SMS_TRANSPORT", options)
    return transport


def _entry(table: Mapping[str, str], name: str, variable: str) -> str:
    entry = table.get(name)
    if entry is None:
        known = ", ".join(sorted(table))
        raise UnknownTransport(
            f"{variable} is {name!r}, which this OpenVisit does not provide; use one of: {known}."
        )
    return entry


def _build(table: Mapping[str, str], name: str, variable: str, options: TransportOptions) -> Any:
    module_name, _, factory_name = _entry(table, name, variable).partition(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    return factory(options)
