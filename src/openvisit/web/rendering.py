"""How web pages answer: autoescaped Jinja2 templates, 303 redirects, security headers.

Every route on a web router uses `PageRoute`, so each response (pages, redirects, error
pages) carries the security headers even when a new page forgets to ask for them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import Scope

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

# Pages load only their own stylesheet, so the policy can refuse every inline script and
# style; form-action and frame-ancestors are not covered by default-src and need saying.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Pages carry CSRF tokens and personal data: no shared or back-button cache may keep them.
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)


class PageRoute(APIRoute):
    """An APIRoute whose responses always carry `SECURITY_HEADERS`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            response = await handler(request)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return secured


class StaticAssets(StaticFiles):
    """The stylesheet and friends; nosniff so a file is only ever used as its own type."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def page(
    request: Request, name: str, context: Mapping[str, Any], *, status_code: int = 200
) -> Response:
    """Render template `name` with `context` as an HTML response."""
    return templates.TemplateResponse(request, name, dict(context), status_code=status_code)


def see_other(url: str) -> Response:
    """A 303 redirect: after a form POST the browser follows it with a GET."""
    return RedirectResponse(url, status_code=303)
