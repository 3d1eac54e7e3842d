"""SMS through Azure Communication Services' SMS REST API (api-version 2021-03-07).

One text is one `POST {endpoint}/sms?api-version=2021-03-07` with the JSON body
`{"from", "smsRecipients": [{"to", "repeatabilityRequestId", "repeatabilityFirstSent"}],
"message", "smsSendOptions"}`, signed with the resource's access key as ACS documents
(HMAC-SHA256 over "VERB\\npath?query\\ndate;host;content-hash", see `sign`).

Retries are safe: the recipient's `repeatabilityRequestId` is a UUID derived from the
notification's idempotency key and `repeatabilityFirstSent` is the time of the first
attempt, both the same on every retry, so the service recognises a repeated request and
does not send the text again.

ACS answers 202 with one result per recipient (`httpStatusCode`, `successful`,
`messageId`, `errorMessage`): a successful one is the receipt (its messageId), a failed
one is mapped by its own status. Other answers carry `{"error": {"code", "message"}}`:
401/403 (the key or the endpoint is wrong) are retried once the operator fixes them,
429 and 5xx are retried after ACS's Retry-After, any other 4xx fails for good.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Final

import httpx

from openvisit.clock import Clock, SystemClock
from openvisit.notify.messages import Receipt, TextMessage
from openvisit.notify.transports.base import DeliveryFailure, PermanentFailure, TransientFailure
from openvisit.notify.transports.provider_http import (
    E164,
    NotConfigured,
    PooledClient,
    clock_option,
    failure_for,
    json_body,
    option,
    retry_after_seconds,
    shorten,
    timeout_option,
)

API_VERSION: Final = "2021-03-07"
SIGNED_HEADERS: Final = "x-ms-date;host;x-ms-content-sha256"
# Fixed forever: changing it would give every pending retry a new repeatability id.
REPEATABILITY_NAMESPACE: Final = uuid.UUID("5b0d2a52-8f0e-4f61-9a57-8a6f0b0c9e31")
CREDENTIALS_HINT: Final = "check OPENVISIT_ACS_ENDPOINT and OPENVISIT_ACS_ACCESS_KEY"
# First-sent times remembered for sends whose message does not carry one.
FIRST_SENT_MEMORY: Final = 10_000


@dataclass(frozen=True, slots=True)
class AcsConfig:
    endpoint: str  # https://<resource>.communication.azure.com
    access_key: bytes  # the resource key, base64-decoded
    from_number: str
    timeout_seconds: float = 10.0
    delivery_report: bool = False


def repeatability_id(idempotency_key: str) -> str:
    """The same UUID for every attempt at one send."""
    return str(uuid.uuid5(REPEATABILITY_NAMESPACE, idempotency_key))


def http_date(moment: datetime) -> str:
    """RFC 1123 in GMT ("Mon, 01 Apr 2019 06:22:03 GMT"), as x-ms-date wants it."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def sign(
    method: str, path_and_query: str, host: str, body: bytes, key: bytes, now: datetime
) -> dict[str, str]:
    """The headers of an access-key signed request: date, content hash, Authorization."""
    date = http_date(now)
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    to_sign = f"{method.upper()}\n{path_and_query}\n{date};{host};{content_hash}"
    digest = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode("ascii")
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={signature}",
    }


def decode_key(text: str) -> bytes | None:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def options_problem(values: Mapping[str, object]) -> str | None:
    """What the settings lack for ACS, as a sentence naming the variables; else None.

    The key itself is never repeated in the sentence: it goes to logs and terminals.
    """
    names = {
        "acs_endpoint": "OPENVISIT_ACS_ENDPOINT",
        "acs_access_key": "OPENVISIT_ACS_ACCESS_KEY",
        "acs_from_number": "OPENVISIT_ACS_FROM_NUMBER",
    }
    missing = [variable for name, variable in names.items() if not option(values, name)]
    if missing:
        return "the acs SMS transport needs " + ", ".join(missing)
    endpoint = httpx.URL(option(values, "acs_endpoint") or "")
    if endpoint.scheme not in ("https", "http") or not endpoint.host:
        return "OPENVISIT_ACS_ENDPOINT must be the resource's URL, https://<name>.communication.azure.com"
    if decode_key(option(values, "acs_access_key") or "") is None:
        return "OPENVISIT_ACS_ACCESS_KEY is not a base64 access key (copy the resource's key)"
    if not E164.fullmatch(option(values, "acs_from_number") or ""):
        return "OPENVISIT_ACS_FROM_NUMBER must be an E.164 number such as +18005550100"
    return None


def from_options(values: Mapping[str, object]) -> AcsTransport:
    """The transport from settings by field name (`acs_*`, `sms_timeout_seconds`;
    SecretStr or plain text) and an optional "clock"; NotConfigured when incomplete."""
    problem = options_problem(values)
    if problem is not None:
        raise NotConfigured(problem)
    config = AcsConfig(
        endpoint=option(values, "acs_endpoint") or "",
        access_key=decode_key(option(values, "acs_access_key") or "") or b"",
        from_number=option(values, "acs_from_number") or "",
        timeout_seconds=timeout_option(values),
    )
    return AcsTransport(config, clock=clock_option(values))


class AcsTransport:
    """An SmsTransport (transports/base.py) over ACS's SMS REST API."""

    name = "acs"

    def __init__(self, config: AcsConfig, *, clock: Clock | None = None) -> None:
        self._config = config
        self._clock = clock or SystemClock()
        self._http = PooledClient(config.timeout_seconds)
        self._url = httpx.URL(
            config.endpoint.rstrip("/") + "/sms", params={"api-version": API_VERSION}
        )
        # httpx leaves a default port out of Host; the signed host must be what is sent.
        port = self._url.port
        self._host = f"{self._url.host}:{port}" if port is not None else self._url.host
        self._first_sent: OrderedDict[str, datetime] = OrderedDict()

    async def send_sms(self, message: TextMessage) -> Receipt:
        if not E164.fullmatch(message.to_number):
            raise PermanentFailure(f"not an E.164 number: {message.to_number!r}")
        now = self._clock.now()
        body = json.dumps(self._request(message, now), separators=(",", ":")).encode("utf-8")
        path = self._url.raw_path.decode("ascii")
        headers = sign("POST", path, self._host, body, self._config.access_key, now)
        response = await self._http.post(
            "Azure Communication Services",
            self._url,
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        if response.status_code == 202:
            return _result(response, message.to_number)
        raise self._failure(response)

    async def close(self) -> None:
        await self._http.aclose()

    def _request(self, message: TextMessage, now: datetime) -> dict[str, Any]:
        recipient = {
            "to": message.to_number,
            "repeatabilityRequestId": repeatability_id(message.idempotency_key),
            "repeatabilityFirstSent": http_date(self._first_attempt(message, now)),
        }
        return {
            "from": self._config.from_number,
            "smsRecipients": [recipient],
            "message": message.body,
            "smsSendOptions": {"enableDeliveryReport": self._config.delivery_report},
        }

    def _first_attempt(self, message: TextMessage, now: datetime) -> datetime:
        """The message's first attempt; failing that, the first this process made."""
        if message.first_attempt_at is not None:
            return message.first_attempt_at
        key = message.idempotency_key
        first = self._first_sent.setdefault(key, now)
        self._first_sent.move_to_end(key)
        while len(self._first_sent) > FIRST_SENT_MEMORY:
            self._first_sent.popitem(last=False)
        return first

    def _failure(self, response: httpx.Response) -> DeliveryFailure:
        status = response.status_code
        error = json_body(response).get("error")
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        words = shorten(str(error.get("message") or response.reason_phrase or ""))
        named = f"ACS {code} (HTTP {status}): {words}" if code else f"ACS HTTP {status}"
        retry_after = retry_after_seconds(response, self._clock.now())
        return failure_for(
            status, named, credentials_hint=CREDENTIALS_HINT, retry_after=retry_after
        )


def _result(response: httpx.Response, to_number: str) -> Receipt:
    """The receipt of our one recipient in a 202, or the failure it reports."""
    results = json_body(response).get("value")
    items = (
        [item for item in results if isinstance(item, dict)] if isinstance(results, list) else []
    )
    mine = next(
        (item for item in items if item.get("to") == to_number), items[0] if items else None
    )
    if mine is None:
        raise TransientFailure("ACS accepted the request but reported no recipient")
    if mine.get("successful") is True:
        repeat = mine.get("repeatabilityResult")
        detail = "ACS accepted" + (f" (repeatability {repeat})" if repeat else "")
        message_id = mine.get("messageId")
        return Receipt(
            provider_id=message_id if isinstance(message_id, str) else None, detail=detail
        )
    status = mine.get("httpStatusCode")
    words = shorten(str(mine.get("errorMessage") or "no reason given"))
    named = f"ACS refused the recipient (HTTP {status}): {words}"
    if isinstance(status, int) and (status == 429 or status >= 500):
        raise TransientFailure(named)
    raise PermanentFailure(named)
