"""Signed, expiring capability tokens carried in links sent to people without an account.

A token names one subject (an appointment id), one purpose (`manage`; later `join` with
a participant role) and a version. It is an HMAC-SHA256 (truncated to 128 bits, keyed
per purpose from the server's secret key) over those and an expiry, so it cannot be
forged, moved to another appointment or used for another purpose, and it stops working
when it expires. Revocation is the subject's business: the version signed in must still
be the subject's current one (`appointments.link_version`), so raising it voids every
link handed out before. Tokens are URL-safe and short enough for an SMS.

Pure functions of their inputs and the clock value passed in: no database, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

MAC_BYTES = 16
_SEPARATOR = "."
_FIELD_SEPARATOR = "~"
MAX_TOKEN_LENGTH = 512


class InvalidLink(Exception):
    """A token that is malformed, forged, for another purpose, or expired.

    `expired` tells the one case a person can act on ("ask for a new link") apart from
    the rest, which all read as "this link is not valid".
    """

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True, slots=True)
class LinkClaim:
    purpose: str
    subject: str
    version: int
    expires_at: datetime


def sign(secret_key: str, purpose: str, subject: str, *, version: int, expires_at: datetime) -> str:
    """A token for `subject` and `purpose`, valid until `expires_at` (an aware datetime)."""
    if _FIELD_SEPARATOR in subject or _FIELD_SEPARATOR in purpose:
        raise ValueError(f"subject and purpose may not contain {_FIELD_SEPARATOR!r}")
    expiry = int(expires_at.timestamp())
    payload = _FIELD_SEPARATOR.join((subject, str(version), str(expiry))).encode("utf-8")
    return _encode(payload) + _SEPARATOR + _encode(_mac(secret_key, purpose, payload))


def verify(secret_key: str, purpose: str, token: str, *, now: datetime) -> LinkClaim:
    """The claim a genuine, unexpired token for `purpose` carries; InvalidLink otherwise."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(_SEPARATOR) != 1:
        raise InvalidLink
    encoded_payload, encoded_mac = token.split(_SEPARATOR)
    try:
        payload, mac = _decode(encoded_payload), _decode(encoded_mac)
    except (binascii.Error, ValueError) as error:
        raise InvalidLink from error
    if not hmac.compare_digest(mac, _mac(secret_key, purpose, payload)):
        raise InvalidLink
    subject, version, expiry = _fields(payload)
    expires_at = datetime.fromtimestamp(expiry, UTC)
    if now >= expires_at:
        raise InvalidLink(expired=True)
    return LinkClaim(purpose=purpose, subject=subject, version=version, expires_at=expires_at)


def _fields(payload: bytes) -> tuple[str, int, int]:
    # The MAC matched, so the payload is one we signed; parsing cannot fail but for a
    # changed format, which is then as good as forged.
    try:
        subject, version, expiry = payload.decode("utf-8").split(_FIELD_SEPARATOR)
        return subject, int(version), int(expiry)
    except ValueError as error:  # pragma: no cover - only a token of another format
        raise InvalidLink from error


def _mac(secret_key: str, purpose: str, payload: bytes) -> bytes:
    key = hmac.new(
        secret_key.encode("utf-8"), b"openvisit.link:" + purpose.encode("utf-8"), hashlib.sha256
    ).digest()
    return hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # One token, one spelling: base64's unused low bits would let a changed last
    # character decode to the same bytes.
    if _encode(data) != text:
        raise ValueError("not the canonical encoding")
    return data
