"""What the SMS provider adapters share: one pooled HTTP client, failures, options.

Both adapters speak a provider's REST API over httpx. The rules here are the contract's
(transports/base.py) applied to HTTP: a request that timed out or never connected is a
TransientFailure, and so is an answer that says "later" (429, 5xx), with the provider's
Retry-After. Proxy variables (HTTPS_PROXY, NO_PROXY) are honoured, as httpx does, since
a server behind an egress proxy has no other way out.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final, cast

import httpx
from pydantic import SecretStr

from openvisit import __version__
from openvisit.clock import Clock, SystemClock
from openvisit.notify.transports.base import DeliveryFailure, PermanentFailure, TransientFailure

USER_AGENT: Final = f"OpenVisit/{__version__}"
DEFAULT_TIMEOUT_SECONDS: Final = 10.0
E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
# An answer's detail goes to the delivery log: enough to act on, not a whole page.
DETAIL_LIMIT: Final = 300


class NotConfigured(ValueError):
    """The transport was chosen but a setting it needs is missing or unusable."""


def option(values: Mapping[str, object], name: str) -> str | None:
    """A setting's text (a SecretStr revealed), or None when unset or blank."""
    value = values.get(name)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def timeout_option(values: Mapping[str, object]) -> float:
    value = values.get("sms_timeout_seconds")
    return float(value) if isinstance(value, int | float | str) else DEFAULT_TIMEOUT_SECONDS


def clock_option(values: Mapping[str, object]) -> Clock:
    """The injected clock (`values["clock"]`), else the system's."""
    clock = values.get("clock")
    # Clock is a plain Protocol: isinstance cannot check it, its one method can.
    return cast(Clock, clock) if callable(getattr(clock, "now", None)) else SystemClock()


class PooledClient:
    """An httpx.AsyncClient made on first use, one per event loop.

    httpx pools connections on the loop that opened them, so a transport used from a
    new loop (a dispatcher restarted in the same process) gets a new client instead of
    sockets bound to a loop that has ended. Safe for concurrent sends on one loop.
    """

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = httpx.Timeout(timeout_seconds)
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            )
            self._loop = loop
        return self._client

    async def post(self, provider: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        """POST, turning "no answer" into a TransientFailure that names the provider."""
        try:
            return await self.get().post(url, **kwargs)
        except httpx.TimeoutException as error:
            seconds = self._timeout.read
            raise TransientFailure(
                f"{provider} did not answer within {seconds:g} s ({type(error).__name__}); "
                "it may or may not have taken the message"
            ) from error
        except httpx.TransportError as error:
            raise TransientFailure(f"could not reach {provider}: {error!r}") from error

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.aclose()


def retry_after_seconds(response: httpx.Response, now: datetime) -> float | None:
    """The Retry-After hint in seconds (delta-seconds or an HTTP-date), if any."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        return None
    return max(0.0, (when - now).total_seconds())


def failure_for(
    status: int, named: str, *, credentials_hint: str, retry_after: float | None
) -> DeliveryFailure:
    """How an error answer counts: 401/403 wait for the operator's fix, 429 and 5xx pass
    with time, any other 4xx will never succeed as it stands."""
    if status in (401, 403):
        return TransientFailure(f"{named}; {credentials_hint}")
    if status == 429 or status >= 500:
        return TransientFailure(named, retry_after_seconds=retry_after)
    if 400 <= status < 500:
        return PermanentFailure(named)
    return TransientFailure(f"{named}: an answer the provider does not document")


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer as a JSON object, or {} when it is none (an HTML error page)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 3] + "..."
