"""The objects a running server hands to its transports: built once by app.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from openvisit.addresses import IPNetwork
from openvisit.auth.hashing import PasswordHashing, shared_hashing
from openvisit.bookings.document_store import DocumentStore
from openvisit.bus import EventBus, InProcessEventBus
from openvisit.clock import Clock, SystemClock
from openvisit.meetings.ice import IceConfig, RtcConfiguration, rtc_configuration
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
    # Lobby, signaling and chat events between processes (docs/events.md); app.py's
    # lifespan starts and stops it. In-process by default, as tests and one worker need.
    events: EventBus = field(default_factory=InProcessEventBus)
    # STUN/TURN servers for the calls' RTCConfiguration (meetings/ice.py); none by default.
    ice: IceConfig = field(default_factory=IceConfig)
    # The real time, for what a party outside this process checks against its own clock
    # (coturn, the expiry of a TURN credential). `clock` may be pinned or replayed.
    wall_clock: Clock = field(default_factory=SystemClock)

    def rtc_configuration(self, participant_id: str) -> RtcConfiguration:
        """The RTCConfiguration of one participant: STUN, and TURN with its own credential.

        Signed against the wall clock, not `clock`: coturn compares the credential's expiry
        with its own clock, so one stamped by a clock pinned in the past (tests, a replay)
        or lagging would be refused as expired, and the call could never relay.
        """
        return rtc_configuration(self.ice, participant_id, self.wall_clock.now())
