"""Which event bus a server runs, from its settings (OPENVISIT_EVENT_BUS and friends).

`auto` takes Redis when OPENVISIT_REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY when the
database is PostgreSQL, else the in-process bus. A set-up that cannot work is refused
with a sentence naming what to set: `postgres` on SQLite, `redis` without a URL, and
`serve --workers N` (N > 1) with a bus that stays inside one process, since the consumer
and the provider of one visit may then be served by different processes.

Adapters are imported only by `build_event_bus`, so reading settings stays light.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from openvisit.bus.port import EventBus

BusName = Literal["inprocess", "redis", "postgres"]
CROSSES_PROCESSES: dict[BusName, bool] = {"inprocess": False, "redis": True, "postgres": True}


class BusChoiceError(ValueError):
    """A bus setting that cannot work; the text says what to set instead."""


def is_postgres(database_url: str | None) -> bool:
    scheme = (database_url or "").partition("://")[0].lower()
    return scheme.partition("+")[0] in ("postgresql", "postgres")


def resolve(choice: str, *, redis_url: str | None, database_url: str | None) -> BusName:
    """The adapter `choice` (auto, inprocess, redis, postgres) means for these settings."""
    if choice == "auto":
        if redis_url:
            return "redis"
        return "postgres" if is_postgres(database_url) else "inprocess"
    if choice == "redis" and not redis_url:
        raise BusChoiceError(
            "OPENVISIT_EVENT_BUS=redis needs OPENVISIT_REDIS_URL (redis://host:6379/0)."
        )
    if choice == "postgres" and not is_postgres(database_url):
        raise BusChoiceError(
            "OPENVISIT_EVENT_BUS=postgres needs a PostgreSQL database: set "
            "OPENVISIT_DATABASE_URL=postgresql://..., or use OPENVISIT_EVENT_BUS=redis with "
            "OPENVISIT_REDIS_URL."
        )
    if choice not in CROSSES_PROCESSES:
        raise BusChoiceError(
            f"OPENVISIT_EVENT_BUS must be auto, inprocess, redis or postgres, not {choice!r}."
        )
    return choice


def check_workers(name: BusName, workers: int) -> None:
    """Refuse several server processes when events cannot travel between them."""
    if workers <= 1 or CROSSES_PROCESSES[name]:
        return
    raise BusChoiceError(
        f"`openvisit serve` with {workers} workers needs an event bus that crosses processes: "
        "the consumer and the provider of one visit may be served by different workers, "
        "and the in-process bus cannot carry the lobby, signaling and chat between them. "
        "Set OPENVISIT_REDIS_URL=redis://host:6379/0, or use PostgreSQL "
        "(OPENVISIT_DATABASE_URL=postgresql://...), with OPENVISIT_EVENT_BUS unset or auto; "
        "or run one worker (--workers 1)."
    )


def build_event_bus(name: BusName, *, redis_url: str | None, database_url: str | None) -> EventBus:
    """A new, not yet started adapter `name` for these settings."""
    if name == "redis":
        from openvisit.bus.redis import RedisEventBus  # noqa: PLC0415 - only when chosen

        return RedisEventBus(redis_url or "")
    if name == "postgres":
        from openvisit.bus.postgres import PostgresEventBus  # noqa: PLC0415

        return PostgresEventBus(psycopg_dsn(database_url or ""))
    from openvisit.bus.inprocess import InProcessEventBus  # noqa: PLC0415

    return InProcessEventBus()


def check_reachable(name: BusName, *, redis_url: str | None, database_url: str | None) -> None:
    """Connect once and disconnect: `serve` says "Redis is down" before any worker starts.

    Raises BusUnavailableError with the reason; the in-process bus always passes.
    """
    bus = build_event_bus(name, redis_url=redis_url, database_url=database_url)

    async def probe() -> None:
        await bus.start(lambda _channel, _payload: None)
        await bus.stop()

    asyncio.run(probe())


def psycopg_dsn(database_url: str) -> str:
    """postgresql+psycopg://... (SQLAlchemy's form) -> postgresql://... (libpq's)."""
    _scheme, separator, rest = database_url.partition("://")
    return f"postgresql://{rest}" if separator and is_postgres(database_url) else database_url
