"""How the consumer pages speak: one Jinja environment per language, the language choice,
the anonymous visitor's CSRF cookie, and the parts every page shares (brand, switcher).

Every text goes through gettext, domain `pages` (i18n.jinja_environment binds it per
language, so two requests in two languages never share a translation). The language is
the visitor's choice (`?lang=` from the switcher, kept in a cookie), else the browser's
Accept-Language, else the page's default (the business's languageTag, or for a manage
link the language the appointment was booked in).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from openvisit import i18n
from openvisit.auth.sessions import check_csrf, csrf_token, login_nonce
from openvisit.bookings.views import BusinessView
from openvisit.runtime import Runtime
from openvisit.web.rendering import TEMPLATES_DIR

LANGUAGE_COOKIE = "openvisit_lang"
# The double-submit cookie of the consumer forms (the login form has its own).
CSRF_COOKIE = "openvisit_page_csrf"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
Translate = Callable[[str], str]


@functools.cache
def environment(language: str) -> jinja2.Environment:
    return i18n.jinja_environment([jinja2.FileSystemLoader(TEMPLATES_DIR)], language, "pages")


def gettext_for(language: str) -> Translate:
    """gettext in `language`, for texts made in Python (bind it to `_` so they extract)."""
    return i18n.translations(language, "pages").gettext


def chosen_language(request: Request) -> str | None:
    """The language the visitor picked: this request's ?lang=, else the cookie."""
    return i18n.supported(request.query_params.get("lang")) or i18n.supported(
        request.cookies.get(LANGUAGE_COOKIE)
    )


def page_language(request: Request, default: str | None, *, preferred: str | None = None) -> str:
    """The language of this page: chosen, else `preferred` (the language an appointment was
    booked in), else Accept-Language, else `default` (the business's languageTag)."""
    return i18n.negotiate(
        chosen=chosen_language(request) or i18n.supported(preferred),
        accept_language=request.headers.get("accept-language"),
        default=default,
    )


@dataclass(frozen=True, slots=True)
class Brand:
    """What a page shows of the business: its name, colour and whether to be indexed."""

    name: str
    initial: str
    stylesheet: str | None  # the business's colours (web/consumer/brand.py), or None
    noindex: bool
    home: str | None  # its booking page, when it is published


def brand_of(business: BusinessView | None) -> Brand | None:
    if business is None:
        return None
    settings = business.booking_page_settings or {}
    published = business.is_published
    return Brand(
        name=business.display_name,
        initial=(business.display_name.strip()[:1] or "?").upper(),
        stylesheet=f"/book/{business.id}/brand.css" if published else None,
        noindex=bool(settings.get("isSearchEngineIndexabilityDisabled")) or not published,
        home=f"/book/{business.id}/" if published else None,
    )


def with_query(path: str, params: Mapping[str, str | None]) -> str:
    """`path` with the non-empty `params` as its query."""
    kept = {name: value for name, value in params.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path


def render(
    request: Request,
    runtime: Runtime,
    name: str,
    context: Mapping[str, Any],
    *,
    language: str,
    here: str,
    here_params: Mapping[str, str | None] | None = None,
    status_code: int = 200,
) -> Response:
    """Render consumer template `name`; `here` (+ `here_params`) is the GET address of
    this page, which the language switcher links to."""
    params = dict(here_params or {})
    switcher = [
        {
            "code": code,
            "name": i18n.LANGUAGE_NAMES[code],
            "url": with_query(here, {**params, "lang": code}),
            "current": code == language,
        }
        for code in i18n.LANGUAGES
    ]
    nonce = login_nonce(request.cookies.get(CSRF_COOKIE))
    values = {
        "brand": None,
        "languages": switcher,
        "csrf_token": csrf_token(runtime.secret_key, nonce),
        **context,
    }
    html = environment(language).get_template(f"consumer/{name}").render(values)
    response = HTMLResponse(html, status_code=status_code)
    # Only the consumer forms post with it; SameSite keeps it off cross-site posts too.
    response.set_cookie(
        CSRF_COOKIE, nonce, path="/", secure=runtime.secure_cookies, httponly=True, samesite="lax"
    )
    picked = i18n.supported(request.query_params.get("lang"))
    if picked is not None:
        response.set_cookie(
            LANGUAGE_COOKIE,
            picked,
            max_age=LANGUAGE_COOKIE_SECONDS,
            path="/",
            secure=runtime.secure_cookies,
            httponly=True,
            samesite="lax",
        )
    return response


def csrf_ok(request: Request, runtime: Runtime, submitted: str) -> bool:
    return check_csrf(runtime.secret_key, request.cookies.get(CSRF_COOKIE), submitted)
