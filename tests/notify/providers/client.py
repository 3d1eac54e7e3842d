"""Drive an SMS transport the way the dispatcher does: sends in turn on one event loop."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

from openvisit.clock import FixedClock
from openvisit.notify.messages import Receipt, TextMessage
from openvisit.notify.transports.base import DeliveryFailure, SmsTransport

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@contextmanager
def _direct() -> Iterator[None]:
    # httpx honours proxy variables; the stand-ins are on loopback, reached directly.
    kept = {name: value for name, value in os.environ.items() if name not in PROXY_VARIABLES}
    with mock.patch.dict(os.environ, kept, clear=True):
        yield


def send(
    transport: SmsTransport, *steps: TextMessage | timedelta, clock: FixedClock | None = None
) -> list[Receipt | DeliveryFailure]:
    """Each message's receipt or failure, in order (a timedelta moves `clock` between
    sends); the transport is closed at the end, on the loop that used it."""

    async def scenario() -> list[Receipt | DeliveryFailure]:
        results: list[Receipt | DeliveryFailure] = []
        try:
            for step in steps:
                if isinstance(step, timedelta):
                    assert clock is not None, "moving time needs the transport's clock"
                    clock.advance(step)
                    continue
                try:
                    results.append(await transport.send_sms(step))
                except DeliveryFailure as failure:
                    results.append(failure)
        finally:
            await transport.close()
        return results

    with _direct():
        return asyncio.run(scenario())
