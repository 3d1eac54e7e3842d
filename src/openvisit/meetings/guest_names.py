"""The name a guest types before joining: what it may be, in one place.

A guest (an interpreter, a family member) is invited by a link, not by the appointment,
so they name themselves; the others in the visit see that name on their tiles, in the
people list, in chat and on the provider's board. The page checks it as it is typed; the
real-time protocol checks it again (a hand-made client's bad name is a protocol error),
both with this rule.
"""

from __future__ import annotations

import unicodedata

GUEST_NAME_MAX_LENGTH = 80
# What a guest who has not named themselves is shown as (a link made without a name).
GUEST_LABEL = "Guest"


def check_guest_name(raw: str) -> str:
    """`raw` trimmed, or ValueError saying why it is no name.

    Control characters (category Cc: newlines, tabs, escapes) are refused rather than
    dropped: a name shown to others should be what its owner typed, or nothing.
    """
    name = raw.strip()
    if not 1 <= len(name) <= GUEST_NAME_MAX_LENGTH:
        raise ValueError(f"A name has 1 to {GUEST_NAME_MAX_LENGTH} characters.")
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise ValueError("A name may not contain control characters.")
    return name
