"""SMS through Twilio's Programmable Messaging REST API (the 2010-04-01 Message resource).

One text is one `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form
encoded (`To`, `Body`, and `MessagingServiceSid` or `From`), authenticated with HTTP
Basic: the Account SID and its Auth Token, or an API key's SID and secret. Twilio
answers 201 with the new Message resource, whose `sid` (SM...) is our receipt, or an
error object `{"code", "message", "more_info", "status"}`:

- 400/404 and other 4xx: the message can never go as it stands (21211 invalid `To`,
  21610 the recipient replied STOP, 21408 no permission for the region, ...):
  PermanentFailure naming the code. Except 21611 (the sender's queue is full) and
  14107 (send rate exceeded), which pass with time: TransientFailure.
- 401/403: the credentials are wrong or lack the right; nothing is wrong with this
  message, so it is retried once the operator fixes them (TransientFailure).
- 429 and 5xx: TransientFailure, with Twilio's Retry-After.

Twilio offers no idempotency key on this call: a send that timed out after Twilio took
it is retried by the dispatcher and can arrive twice. That ambiguity is a timeout's
only; every answer Twilio gives is decisive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

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

DEFAULT_BASE_URL: Final = "https://api.twilio.com"
# Error codes of a 400 that mean "not now" rather than "never".
TRANSIENT_CODES: Final = frozenset({14107, 20429, 21611})
CREDENTIALS_HINT: Final = (
    "check OPENVISIT_TWILIO_ACCOUNT_SID and OPENVISIT_TWILIO_AUTH_TOKEN "
    "(or OPENVISIT_TWILIO_API_KEY_SID and OPENVISIT_TWILIO_API_KEY_SECRET)"
)


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    account_sid: str
    # Basic auth: (account_sid, auth_token), or (api_key_sid, api_key_secret) when set.
    auth_token: str | None = None
    api_key_sid: str | None = None
    api_key_secret: str | None = None
    # The sender: a Messaging Service (Twilio picks a number from its pool) or a number.
    messaging_service_sid: str | None = None
    from_number: str | None = None
    base_url: str = DEFAULT_BASE_URL
    timeout_seconds: float = 10.0

    @property
    def credentials(self) -> tuple[str, str]:
        if self.api_key_sid and self.api_key_secret:
            return self.api_key_sid, self.api_key_secret
        return self.account_sid, self.auth_token or ""


def options_problem(values: Mapping[str, object]) -> str | None:
    """What the settings lack for Twilio, as a sentence naming the variables; else None."""
    missing = []
    if not option(values, "twilio_account_sid"):
        missing.append("OPENVISIT_TWILIO_ACCOUNT_SID")
    key_pair = option(values, "twilio_api_key_sid") and option(values, "twilio_api_key_secret")
    if not option(values, "twilio_auth_token") and not key_pair:
        missing.append(
            "OPENVISIT_TWILIO_AUTH_TOKEN (or OPENVISIT_TWILIO_API_KEY_SID with "
            "OPENVISIT_TWILIO_API_KEY_SECRET)"
        )
    if not option(values, "twilio_messaging_service_sid") and not option(
        values, "twilio_from_number"
    ):
        missing.append("OPENVISIT_TWILIO_FROM_NUMBER or OPENVISIT_TWILIO_MESSAGING_SERVICE_SID")
    if missing:
        return "the twilio SMS transport needs " + "; ".join(missing)
    sender = option(values, "twilio_from_number")
    if sender and not option(values, "twilio_messaging_service_sid") and not E164.fullmatch(sender):
        return "OPENVISIT_TWILIO_FROM_NUMBER must be an E.164 number such as +15005550006"
    return None


def from_options(values: Mapping[str, object]) -> TwilioTransport:
    """The transport from settings by field name (`twilio_*`, `sms_timeout_seconds`;
    SecretStr or plain text) and an optional "clock"; NotConfigured when incomplete."""
    problem = options_problem(values)
    if problem is not None:
        raise NotConfigured(problem)
    config = TwilioConfig(
        account_sid=option(values, "twilio_account_sid") or "",
        auth_token=option(values, "twilio_auth_token"),
        api_key_sid=option(values, "twilio_api_key_sid"),
        api_key_secret=option(values, "twilio_api_key_secret"),
        messaging_service_sid=option(values, "twilio_messaging_service_sid"),
        from_number=option(values, "twilio_from_number"),
        base_url=option(values, "twilio_api_base_url") or DEFAULT_BASE_URL,
        timeout_seconds=timeout_option(values),
    )
    return TwilioTransport(config, clock=clock_option(values))


class TwilioTransport:
    """An SmsTransport (transports/base.py) over Twilio's Messages API."""

    name = "twilio"

    def __init__(self, config: TwilioConfig, *, clock: Clock | None = None) -> None:
        self._config = config
        self._clock = clock or SystemClock()
        self._http = PooledClient(config.timeout_seconds)
        base = config.base_url.rstrip("/")
        self._url = f"{base}/2010-04-01/Accounts/{config.account_sid}/Messages.json"

    async def send_sms(self, message: TextMessage) -> Receipt:
        if not E164.fullmatch(message.to_number):
            raise PermanentFailure(f"not an E.164 number: {message.to_number!r}")
        response = await self._http.post(
            "Twilio",
            self._url,
            data=self._form(message),
            auth=httpx.BasicAuth(*self._config.credentials),
            headers={"Accept": "application/json"},
        )
        if response.status_code in (200, 201):
            return _receipt(response)
        raise self._failure(response)

    async def close(self) -> None:
        await self._http.aclose()

    def _form(self, message: TextMessage) -> dict[str, str]:
        form = {"To": message.to_number, "Body": message.body}
        if self._config.messaging_service_sid:
            form["MessagingServiceSid"] = self._config.messaging_service_sid
        else:
            form["From"] = self._config.from_number or ""
        return form

    def _failure(self, response: httpx.Response) -> DeliveryFailure:
        status = response.status_code
        error = json_body(response)
        code = error.get("code")
        words = shorten(str(error.get("message") or response.reason_phrase or ""))
        named = f"Twilio error {code} (HTTP {status}): {words}" if code else f"Twilio HTTP {status}"
        retry_after = retry_after_seconds(response, self._clock.now())
        if status == 400 and code in TRANSIENT_CODES:
            return TransientFailure(named, retry_after_seconds=retry_after)
        return failure_for(
            status, named, credentials_hint=CREDENTIALS_HINT, retry_after=retry_after
        )


def _receipt(response: httpx.Response) -> Receipt:
    message = json_body(response)
    sid = message.get("sid")
    if not isinstance(sid, str) or not sid:
        # Accepted, by its status, but without the id we would match delivery reports to.
        return Receipt(provider_id=None, detail="Twilio accepted the message without a sid")
    status = message.get("status") or "accepted"
    segments = message.get("num_segments")
    detail = f"Twilio {status}" + (f", {segments} segment(s)" if segments else "")
    return Receipt(provider_id=sid, detail=detail)
