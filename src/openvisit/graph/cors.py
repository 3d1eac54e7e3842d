"""CORS for browser-based Graph clients: only origins the operator lists are allowed.

The API authenticates with bearer tokens, never cookies, so no credentials are allowed
cross-site; a listed origin may send the headers Graph clients send and read the ones
they need back (request ids, Retry-After, Location, Preference-Applied).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Prefer",
    "ConsistencyLevel",
    "client-request-id",
    "return-client-request-id",
    "Idempotency-Key",
)
EXPOSED_HEADERS = (
    "request-id",
    "client-request-id",
    "Location",
    "Retry-After",
    "Preference-Applied",
)
PREFLIGHT_MAX_AGE_SECONDS = 600


def install_cors(app: FastAPI, origins: tuple[str, ...]) -> None:
    """Answer preflights and tag responses for `origins`; with none, add nothing at all."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
