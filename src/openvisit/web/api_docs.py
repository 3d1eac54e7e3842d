"""/docs: the API explorer, Swagger UI served from our own static files.

FastAPI's built-in page loads Swagger UI from a CDN; this one works offline and under the
pages' Content-Security-Policy (no inline script: the start-up code is static/api-docs.js).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from openvisit.web.rendering import CONTENT_SECURITY_POLICY, PageRoute, page

router = APIRouter(include_in_schema=False, route_class=PageRoute)

# Swagger UI's stylesheet draws its icons as data: SVG images; scripts stay 'self' only.
API_DOCS_POLICY = f"{CONTENT_SECURITY_POLICY}; img-src 'self' data:"


@router.get("/docs")
def api_docs(request: Request) -> Response:
    response = page(request, "api_docs.html", {})
    response.headers["Content-Security-Policy"] = API_DOCS_POLICY
    return response
