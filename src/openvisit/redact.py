"""Hide secrets and personal data in text a person or a log file will read.

Used by `openvisit config` (passwords in database and Redis URLs) and by the log
formatters (tokens, passwords and e-mail addresses in any message or traceback).
"""

from __future__ import annotations

import re

MASK = "***"

# name=value pairs that carry a secret: URL query strings (redis://h/0?password=...),
# libpq keyword strings (host=h password=...), OAuth-style access_token parameters.
_SECRET_PARAMETER = re.compile(
    r"(?i)\b((?:ssl)?pass(?:word|wd)?|pwd|secret|client_secret|token|access_token|"
    r"refresh_token|api_?key)=([^&;\s'\"]+)"
)
# scheme://user:password@ — the password may hold @ or : when it was not percent-encoded,
# so the credentials run to the last @ before the first space.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s:/@]*):([^\s]*)@")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
# API tokens (ovt_) and the calendar feed URLs' tokens (ovf_, in the access log's paths).
_API_TOKEN = re.compile(r"\b(ov[tf])_[A-Za-z0-9_-]+")
# Consumer links carry their capability in the path (/manage/<token>/...): whoever reads
# the access log must not be able to open someone's appointment with it.
_LINK_TOKEN = re.compile(r"(/manage/)[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# The local part names a person; the domain says which system it was about and stays.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def mask_url_password(url: str) -> str:
    """`url` with its password (user:password@ or a password= parameter) masked."""
    masked = _SECRET_PARAMETER.sub(_mask_parameter, url)
    scheme, sep, rest = masked.partition("://")
    if not sep or "@" not in rest:
        return masked
    credentials, _, host = rest.rpartition("@")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}://{user}{':' + MASK if colon else ''}@{host}"


def redact(text: str) -> str:
    """`text` without passwords, tokens or the local part of e-mail addresses."""
    text = _SECRET_PARAMETER.sub(_mask_parameter, text)
    text = _URL_CREDENTIALS.sub(lambda match: f"{match[1]}{match[2]}:{MASK}@", text)
    text = _BEARER.sub(lambda match: f"{match[1]}{MASK}", text)
    text = _API_TOKEN.sub(lambda match: f"{match[1]}_{MASK}", text)
    text = _LINK_TOKEN.sub(lambda match: f"{match[1]}{MASK}", text)
    return _EMAIL.sub(lambda match: f"{MASK}@{match[1]}", text)


def _mask_parameter(match: re.Match[str]) -> str:
    return f"{match[1]}={MASK}"
