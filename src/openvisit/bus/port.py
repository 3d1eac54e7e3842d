"""The event bus port (placeholder of the realtime branch; the bus branch's version wins).

`start(deliver, on_reconnect)` is awaited once on the loop that owns the bus; `deliver`
and `on_reconnect` are then called on that loop. A publish reaches every process
subscribed to its channel, this one included, at most once. After a lost connection the
adapter calls `on_reconnect()` and the caller resyncs from the database.
`publish_threadsafe` may be called from any thread and never blocks long.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Deliver = Callable[[str, str], None]


class EventBus(Protocol):
    name: str
    crosses_processes: bool

    async def start(
        self, deliver: Deliver, on_reconnect: Callable[[], None] | None = None
    ) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, channel: str, payload: str) -> None: ...

    def publish_threadsafe(self, channel: str, payload: str) -> None: ...

    async def subscribe(self, channel: str) -> None: ...

    async def unsubscribe(self, channel: str) -> None: ...
