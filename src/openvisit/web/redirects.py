"""Where a page may send the browser after sign-in: local paths only (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

STAFF_HOME = "/staff"
LOGIN_PATH = "/login"


def safe_next(target: str | None, *, default: str = STAFF_HOME) -> str:
    """Return `target` if it is a path on this site, else `default`.

    Accepted: one leading "/" followed by anything but another "/" or "\\". Browsers read
    "//host" and "/\\host" as other sites and drop tabs and newlines before parsing, so
    any control character is refused too rather than cleaned.
    """
    if not target or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return default
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def login_url(next_path: str) -> str:
    """The login page that returns to `next_path` (e.g. "/login?next=/staff")."""
    return f"{LOGIN_PATH}?{urlencode({'next': next_path}, safe='/')}"
