"""A stand-in for Azure Communication Services' SMS API (2021-03-07), as documented.

`POST /sms?api-version=2021-03-07` with a JSON body, signed with the resource's access
key. It verifies what ACS verifies, in its order, and answers as ACS does:

- the content hash: `x-ms-content-sha256` must be the base64 SHA-256 of the body, else
  401 `{"error": {"code": "Denied", "message": "Request 'x-ms-content-sha256' differs
  from generated content hash."}}`;
- the signature: HMAC-SHA256, keyed with the base64-decoded access key, over
  "POST\\n/sms?api-version=...\\n<x-ms-date>;<Host>;<content hash>", recomputed here
  from what arrived, else 401 "Denied by the resource provider.";
- the date: x-ms-date within 15 minutes of the stand-in's clock, else 401;
- the body: `from` (one of the resource's numbers), `message`, 1 to 100
  `smsRecipients`, else 400 with an error object;
- each recipient, answered in the 202's `value`: a `to` that is no valid E.164 number
  gets httpStatusCode 400 "Invalid To phone number format."; a repeated
  `repeatabilityRequestId` (with the same `repeatabilityFirstSent`) is not sent again,
  and its result repeats the first one's messageId.

A test can script the next answers (`answer_next`): any status, body, headers, after a
delay; or a per-recipient failure for a number (`fail_recipient`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import phonenumbers
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.notify.providers.twilio import Scripted

ACCESS_KEY = base64.b64encode(b"the stand-in resource's 32-byte key!").decode()
FROM_NUMBER = "+18005550100"
API_VERSION = "2021-03-07"
CLOCK_SKEW = timedelta(minutes=15)


@dataclass(frozen=True)
class Received:
    path_and_query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


def denied(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "Denied", "message": message}}, 401)


def bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "BadRequest", "message": message}}, 400)


class FakeAcs:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.received: list[Received] = []
        self.sent: list[dict[str, Any]] = []  # texts that left, one per recipient
        self._repeats: dict[str, dict[str, Any]] = {}  # repeatability id -> first result
        self._failing: dict[str, tuple[int, str]] = {}
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/sms", self._send, methods=["POST"])])

    def answer_next(self, *answers: Scripted) -> None:
        with self._lock:
            self._script.extend(answers)

    def fail_recipient(self, number: str, status: int, message: str) -> None:
        self._failing[number] = (status, message)

    async def _send(self, request: Request) -> Response:
        body = await request.body()
        path_and_query = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        with self._lock:
            self.received.append(Received(path_and_query, dict(request.headers), body))
            scripted = self._script.popleft() if self._script else None
        if scripted is not None:
            await asyncio.sleep(scripted.delay_seconds)
            return JSONResponse(scripted.body, scripted.status, headers=scripted.headers)
        refusal = self._authenticate(request, path_and_query, body)
        if refusal is not None:
            return refusal
        if request.query_params.get("api-version") != API_VERSION:
            return bad_request(
                f"The api-version '{request.query_params.get('api-version')}' is invalid."
            )
        try:
            document = json.loads(body)
        except ValueError:
            return bad_request("The request body is not valid JSON.")
        problem = _check_body(document)
        if problem is not None:
            return bad_request(problem)
        results = [self._deliver(document, recipient) for recipient in document["smsRecipients"]]
        return JSONResponse({"value": results}, 202)

    def _authenticate(self, request: Request, path_and_query: str, body: bytes) -> Response | None:
        date = request.headers.get("x-ms-date", "")
        content_hash = request.headers.get("x-ms-content-sha256", "")
        expected_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if not hmac.compare_digest(content_hash, expected_hash):
            return denied("Request 'x-ms-content-sha256' differs from generated content hash.")
        host = request.headers.get("host", "")
        to_sign = f"{request.method}\n{path_and_query}\n{date};{host};{content_hash}"
        key = base64.b64decode(ACCESS_KEY)
        signature = base64.b64encode(
            hmac.new(key, to_sign.encode(), hashlib.sha256).digest()
        ).decode()
        expected = (
            f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
        )
        if not hmac.compare_digest(request.headers.get("authorization", ""), expected):
            return denied("Denied by the resource provider.")
        try:
            sent_at = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return denied("Denied by the resource provider.")
        if abs(sent_at - self.now) > CLOCK_SKEW:
            return denied("The request time is outside the accepted window.")
        return None

    def _deliver(self, document: dict[str, Any], recipient: dict[str, Any]) -> dict[str, Any]:
        to = str(recipient.get("to", ""))
        repeat_id = recipient.get("repeatabilityRequestId")
        with self._lock:
            if repeat_id is not None and repeat_id in self._repeats:
                return {**self._repeats[repeat_id], "repeatabilityResult": "accepted"}
        if not _valid_number(to):
            return _failed(to, 400, "Invalid To phone number format.")
        if to in self._failing:
            return _failed(to, *self._failing[to])
        result: dict[str, Any] = {
            "to": to,
            "messageId": f"Outgoing_{self.now:%Y%m%d%H%M%S}{uuid.uuid4()}_noam",
            "httpStatusCode": 202,
            "successful": True,
        }
        if repeat_id is not None:
            result["repeatabilityResult"] = "accepted"
        with self._lock:
            self.sent.append({"to": to, "from": document["from"], "message": document["message"]})
            if repeat_id is not None:
                self._repeats[repeat_id] = result
        return result


def _check_body(document: object) -> str | None:
    if not isinstance(document, dict):
        return "The request body must be a JSON object."
    if document.get("from") != FROM_NUMBER:
        return f"The sender '{document.get('from')}' is not a number of this resource."
    if not isinstance(document.get("message"), str):
        return "The 'message' field is required."
    recipients = document.get("smsRecipients")
    if not isinstance(recipients, list) or not 1 <= len(recipients) <= 100:
        return "The 'smsRecipients' field must list 1 to 100 recipients."
    for recipient in recipients:
        first_sent = recipient.get("repeatabilityFirstSent")
        if recipient.get("repeatabilityRequestId") is not None and first_sent is None:
            return "repeatabilityFirstSent is required with repeatabilityRequestId."
        if first_sent is not None and parsedate_to_datetime(first_sent).tzinfo != UTC:
            return "repeatabilityFirstSent must be an IMF-fixdate in GMT."
    return None


def _failed(to: str, status: int, message: str) -> dict[str, Any]:
    return {"to": to, "httpStatusCode": status, "errorMessage": message, "successful": False}


def _valid_number(text: str) -> bool:
    if not text.startswith("+"):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, None))
    except phonenumbers.NumberParseException:
        return False
