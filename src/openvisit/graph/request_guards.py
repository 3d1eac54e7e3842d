"""Checks on API requests that run before FastAPI reads them: token first, then no NUL.

FastAPI reads and parses a request body before it runs any dependency, so without this
a caller with no token could make the server read up to the body cap and parse it, and
learn from a 400 or 413 what a 401 should have told it. For API requests that carry a
body (POST, PUT, PATCH) the token is checked here first; the principal found is kept in
the request state, where `graph.deps.get_principal` picks it up without a second lookup.

U+0000 in a query value matches nothing, PostgreSQL refuses it as a parameter and
some parsers stop at it, so an API request whose query string holds one gets a 400
before any parameter is read (bodies are checked by graph/schemas/types.py).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from openvisit.auth.tokens import authenticate_token, cached_principal
from openvisit.errors import DomainError, Unauthenticated
from openvisit.graph.errors import domain_error_response, error_response
from openvisit.runtime import Runtime

PRINCIPAL = "principal"  # request.state attribute holding the authenticated caller
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_API_PREFIXES = ("/v1.0/", "/beta/")


def bearer_secret(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


class AuthenticateFirstMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _BODY_METHODS
            or not scope["path"].lower().startswith(_API_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        runtime: Runtime = request.app.state.runtime
        try:
            secret = bearer_secret(request.headers.get("authorization"))
            if secret is None:
                raise Unauthenticated("tokenMissing")
            principal = cached_principal(runtime.db, runtime.clock, secret)
            if principal is None:
                principal = await run_in_threadpool(
                    authenticate_token, runtime.db, runtime.clock, secret
                )
        except DomainError as error:  # outside the app's handlers: answer as they would
            await domain_error_response(request, error)(scope, receive, send)
            return
        setattr(request.state, PRINCIPAL, principal)
        await self.app(scope, receive, send)


class RefuseNulMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].lower().startswith(_API_PREFIXES)
            and b"\x00" in unquote_to_bytes(scope["query_string"])
        ):
            request = Request(scope)
            names = [name for name, value in request.query_params.multi_items() if "\x00" in value]
            # A NUL in a parameter's name is named by the URL; in a value, by the parameter.
            subject = names[0] if names else "The request URL"
            await error_response(request, "nulCharacter", subject=subject)(scope, receive, send)
            return
        await self.app(scope, receive, send)
