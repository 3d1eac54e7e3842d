"""The objects a running server hands to its transports: built once by app.py."""

from __future__ import annotations

from dataclasses import dataclass

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
    redis_url: str | None = None
