"""Join links: capabilities that let a person without an account into one meeting.

A join token names one meeting and one participant role, `consumer` (the person the
appointment is for) or `guest` (a family member or interpreter the provider invites, each
with their own id), and the meeting's `link_version`, so raising that version revokes
every link handed out. It expires some hours after the meeting's end: long enough for a
provider running late, short enough that an old reminder is not a key for ever.
Providers are staff: they join through their sign-in, never through a token.

Pure functions of their inputs (see link_tokens.py for the signature itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from openvisit import link_tokens
from openvisit.link_tokens import InvalidLink

JOIN = "join"
JOIN_VALID_AFTER_END = timedelta(hours=6)
TokenRole = Literal["consumer", "guest"]
_SUBJECT_SEPARATOR = "/"


@dataclass(frozen=True, slots=True)
class JoinClaim:
    meeting_id: str
    role: TokenRole
    # A guest link's own id: two guests of one meeting are two participants.
    guest_id: str | None
    version: int
    expires_at: datetime

    @property
    def participant_key(self) -> str:
        """Who this is inside the meeting, the same on every device and after reloads."""
        return "consumer" if self.role == "consumer" else f"guest:{self.guest_id}"


def join_token(
    secret_key: str,
    meeting_id: str,
    *,
    role: TokenRole,
    version: int,
    end: datetime,
    guest_id: str | None = None,
) -> str:
    """A join token for `role` in `meeting_id`, valid until some hours after `end`."""
    if (role == "guest") != (guest_id is not None):
        raise ValueError("a guest token needs a guest id, and only a guest token has one")
    parts = [meeting_id, role] + ([guest_id] if guest_id is not None else [])
    if any(_SUBJECT_SEPARATOR in part for part in parts):
        raise ValueError(f"ids may not contain {_SUBJECT_SEPARATOR!r}")
    return link_tokens.sign(
        secret_key,
        JOIN,
        _SUBJECT_SEPARATOR.join(parts),
        version=version,
        expires_at=end + JOIN_VALID_AFTER_END,
    )


def read_join_token(secret_key: str, token: str, *, now: datetime) -> JoinClaim:
    """The claim a genuine, unexpired join token carries; InvalidLink otherwise.

    Whether the claim still holds (the meeting exists, is not cancelled, its version is
    the one signed) is the meetings service's question, not this module's.
    """
    claim = link_tokens.verify(secret_key, JOIN, token, now=now)
    parts = claim.subject.split(_SUBJECT_SEPARATOR)
    if len(parts) == 2 and parts[1] == "consumer":
        return JoinClaim(parts[0], "consumer", None, claim.version, claim.expires_at)
    if len(parts) == 3 and parts[1] == "guest":
        return JoinClaim(parts[0], "guest", parts[2], claim.version, claim.expires_at)
    raise InvalidLink  # pragma: no cover - signed by us, so only another format


def join_url(base_url: str, token: str) -> str:
    """The consumer's (or a guest's) link: device check, then the waiting room."""
    return f"{base_url}/join/{token}"


def device_check_url(base_url: str, token: str) -> str:
    """The device check alone, linked from reminders so the consumer can test ahead."""
    return f"{join_url(base_url, token)}/check"


def staff_join_url(base_url: str, meeting_id: str) -> str:
    """The provider's link (Graph's joinWebUrl): behind the staff sign-in, not a token."""
    return f"{base_url}/visits/{meeting_id}"
