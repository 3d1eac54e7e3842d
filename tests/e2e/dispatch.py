"""One pass of the notification dispatcher `openvisit serve` runs, from a browser test."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from openvisit.config import Settings
from openvisit.delivery import build_dispatcher
from openvisit.runtime import Runtime
from tests.conftest import TEST_SECRET


def deliver_once(runtime: Runtime, settings: Settings, base_url: str) -> None:
    """Send what is due through the transports `settings` name, links on `base_url`."""
    dispatcher = build_dispatcher(
        settings, runtime.db, runtime.clock, secret_key=TEST_SECRET, base_url=base_url
    )

    async def once() -> None:
        try:
            await dispatcher.run_once()
        finally:
            await dispatcher.close()

    # Playwright's sync API keeps an event loop running in this thread: use another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, once()).result(timeout=60)
