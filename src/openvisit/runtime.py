"""The objects a running server hands to its transports: built once by app.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from openvisit.addresses import IPNetwork
from openvisit.auth.hashing import PasswordHashing, shared_hashing
from openvisit.bookings.document_store import DocumentStore
from openvisit.bus.inprocess import InProcessEventBus
from openvisit.bus.port import EventBus
from openvisit.clock import Clock
from openvisit.store.db import Database


@dataclass(frozen=True)
class Runtime:
    db: Database
    clock: Clock
    base_url: str
    business_id_domain: str
    page_size: int
    secret_key: str
    session_max_age_seconds: int
    secure_cookies: bool
    # `<data dir>/uploads` and the limits on what goes in (documents before the visit).
    documents: DocumentStore
    redis_url: str | None = None
    # Reverse proxies whose X-Forwarded-For is believed (addresses.client_address).
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # argon2 runs here, off the request threads, with a bounded queue (auth/hashing.py).
    password_hashing: PasswordHashing = field(default_factory=shared_hashing)
    # Carries visit events between server processes (bus/); the realtime hub starts it.
    events: EventBus = field(default_factory=InProcessEventBus)
