"""The event bus: a port (port.py) and its adapters, chosen by settings (choice.py).

See docs/events.md.
"""

from openvisit.bus.inprocess import InProcessEventBus
from openvisit.bus.port import (
    BusError,
    BusNotRunningError,
    BusUnavailableError,
    Deliver,
    EventBus,
    InvalidChannelError,
    InvalidPayloadError,
    PayloadTooLargeError,
)

__all__ = [
    "BusError",
    "BusNotRunningError",
    "BusUnavailableError",
    "Deliver",
    "EventBus",
    "InProcessEventBus",
    "InvalidChannelError",
    "InvalidPayloadError",
    "PayloadTooLargeError",
]
