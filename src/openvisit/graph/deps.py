"""Request dependencies for the REST API: runtime, caller and scope checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from openvisit.auth.scopes import grants
from openvisit.auth.tokens import Principal, authenticate_token, cached_principal
from openvisit.errors import Forbidden, Unauthenticated
from openvisit.runtime import Runtime

_bearer = HTTPBearer(
    auto_error=False, description="An OpenVisit API token (openvisit token create)"
)


async def get_runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain-def dependency on the thread pool, a needless hop here.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_principal(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("Access token is empty; send 'Authorization: Bearer <token>'.")
    # A token seen in the last few seconds needs no database read, so no thread either.
    cached = cached_principal(runtime.db, runtime.clock, credentials.credentials)
    if cached is not None:
        return cached
    return await run_in_threadpool(
        authenticate_token, runtime.db, runtime.clock, credentials.credentials
    )


# Each require_scope dependency -> the scope it demands, so the OpenAPI document
# (graph/openapi.py) states the scope the code checks instead of a second copy.
LEAST_SCOPES: dict[Callable[..., object], str] = {}


def require_scope(least: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency: the caller must hold `least` or a scope Graph lists as higher."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not grants(principal.scopes, least):
            raise Forbidden(
                f"The token lacks the scope this operation needs: {least} (or a higher one)."
            )
        return principal

    LEAST_SCOPES[check] = least
    return check
