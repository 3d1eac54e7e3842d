"""Web origins as operators write them in settings (CORS allow-lists)."""

from __future__ import annotations

from urllib.parse import urlsplit


def parse_origins(text: str) -> tuple[str, ...]:
    """Split a comma- or space-separated origin list; refuse anything but scheme://host[:port].

    A path, a wildcard or a typo would either never match or allow too much, so it stops
    the start with a message instead.
    """
    origins = []
    for item in text.replace(",", " ").split():
        parts = urlsplit(item)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username
        ):
            raise ValueError(
                f"{item!r} is not an origin; write scheme://host[:port], e.g. "
                "https://app.example.com"
            )
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(dict.fromkeys(origins))
