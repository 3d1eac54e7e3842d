"""A stand-in for Twilio's Messages API (2010-04-01), as Twilio documents it.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form encoded, HTTP Basic with
the Account SID and Auth Token or an API key's SID and secret. It checks what Twilio
checks before accepting a message and answers with Twilio's error object
`{"code", "message", "more_info", "status"}`:

| code  | status | when |
|-------|--------|------|
| 20003 | 401 | credentials missing or wrong |
| 20404 | 404 | the path names another account than the credentials' |
| 21604 | 400 | no `To` |
| 21602 | 400 | no `Body` |
| 21603 | 400 | neither `From` nor `MessagingServiceSid` |
| 21211 | 400 | `To` is not a valid phone number |
| 21606 | 400 | `From` is not one of the account's numbers |
| 21701 | 400 | `MessagingServiceSid` is not one of the account's services |
| 21617 | 400 | `Body` longer than 1600 characters |
| 21610 | 400 | the recipient replied STOP to this sender |

A test can also script the next answers (`answer_next`): any status, body and headers,
after an optional delay (a slow answer). Everything received is kept in `received`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"  # the stand-in's own, not a secret
API_KEY_SID = "SK" + "fedcba9876543210" * 2
API_KEY_SECRET = "api-key-secret-of-the-stand-in"
FROM_NUMBER = "+15005550006"
MESSAGING_SERVICE_SID = "MG" + "00112233445566778899aabbccddeeff"
BODY_LIMIT = 1600


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass(frozen=True)
class Scripted:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


def error_body(code: int, status: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.sent: list[dict[str, Any]] = []
        self.unsubscribed: set[str] = set()
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route(
                    "/2010-04-01/Accounts/{account}/Messages.json", self._create, methods=["POST"]
                )
            ]
        )

    def answer_next(self, *answers: Scripted) -> None:
        with self._lock:
            self._script.extend(answers)

    async def _create(self, request: Request) -> Response:
        form = await request.form()
        fields: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            fields.setdefault(key, []).append(str(value))
        with self._lock:
            self.received.append(Received(request.url.path, dict(request.headers), fields))
            scripted = self._script.popleft() if self._script else None
        if scripted is not None:
            await asyncio.sleep(scripted.delay_seconds)
            return JSONResponse(scripted.body, scripted.status, headers=scripted.headers)
        account = _authenticated(request.headers.get("authorization"))
        if account is None:
            body = error_body(20003, 401, "Authentication Error - invalid username")
            return JSONResponse(body, 401, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if request.path_params["account"] != account:
            message = f"The requested resource {request.url.path} was not found"
            return JSONResponse(error_body(20404, 404, message), 404)
        refusal = self._check({key: values[0] for key, values in fields.items()})
        if refusal is not None:
            return JSONResponse(error_body(*refusal), refusal[1])
        return JSONResponse(self._accept(account, fields), 201)

    def _check(self, form: dict[str, str]) -> tuple[int, int, str] | None:
        to, body = form.get("To"), form.get("Body")
        sender, service = form.get("From"), form.get("MessagingServiceSid")
        if not to:
            return 21604, 400, "A 'To' phone number is required."
        if not body:
            return 21602, 400, "Message body is required."
        if not sender and not service:
            return 21603, 400, "A 'From' phone number is required."
        if not _valid_number(to):
            return 21211, 400, f"Invalid 'To' Phone Number: {to}"
        if service is not None and service != MESSAGING_SERVICE_SID:
            return 21701, 400, f"The Messaging Service {service} does not exist"
        if service is None and sender != FROM_NUMBER:
            return (
                21606,
                400,
                f"The From phone number {sender} is not a valid, SMS-capable inbound phone "
                "number or short code for your account.",
            )
        if len(body) > BODY_LIMIT:
            return 21617, 400, "The concatenated message body exceeds the 1600 character limit."
        if to in self.unsubscribed:
            return 21610, 400, "Attempt to send to unsubscribed recipient"
        return None

    def _accept(self, account: str, fields: dict[str, list[str]]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        message = {
            "sid": sid,
            "account_sid": account,
            "to": fields["To"][0],
            "from": fields.get("From", [None])[0],
            "messaging_service_sid": fields.get("MessagingServiceSid", [None])[0],
            "body": fields["Body"][0],
            "status": "queued" if "From" in fields else "accepted",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }
        with self._lock:
            self.sent.append(message)
        return message


def _authenticated(header: str | None) -> str | None:
    """The account the Basic credentials belong to, or None."""
    if header is None or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    credentials = {(ACCOUNT_SID, AUTH_TOKEN), (API_KEY_SID, API_KEY_SECRET)}
    return ACCOUNT_SID if (user, password) in credentials else None


def _valid_number(text: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, None))
    except phonenumbers.NumberParseException:
        return False
