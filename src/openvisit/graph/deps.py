"""Request dependencies for the REST API: runtime, caller and scope checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from openvisit.auth.access import Caller, Operation, authorize, find_membership, needs_membership
from openvisit.auth.scopes import grants
from openvisit.auth.tokens import Principal, authenticate_token, cached_principal
from openvisit.errors import Unauthenticated
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
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # API writes were authenticated before their body was read (graph/request_guards.py).
    early = getattr(request.state, "principal", None)
    if isinstance(early, Principal):
        return early
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("tokenMissing")
    # A token seen in the last few seconds needs no database read, so no thread either.
    cached = cached_principal(runtime.db, runtime.clock, credentials.credentials)
    if cached is not None:
        return cached
    return await run_in_threadpool(
        authenticate_token, runtime.db, runtime.clock, credentials.credentials
    )


class Require:
    """Dependency: the caller's scopes and role allow `operation` (auth/access.py).

    An application token or a server administrator costs no database read here; a token
    acting for any other user costs one indexed read of its membership in the business
    named by the path, so removing a staff member takes effect at the next request.
    Every API route depends on one of these (tests/security/test_routes.py checks), and
    the OpenAPI document (graph/openapi.py) reads the scope each one checks from it.
    """

    def __init__(self, operation: Operation) -> None:
        self.operation = operation

    async def __call__(
        self,
        request: Request,
        runtime: RuntimeDep,
        principal: Annotated[Principal, Depends(get_principal)],
    ) -> Caller:
        operation = self.operation
        business_id: str | None = request.path_params.get("business_id")
        membership = None
        if (
            business_id is not None
            and (operation.scope is None or grants(principal.scopes, operation.scope))
            and needs_membership(operation, principal)
        ):
            membership = await run_in_threadpool(
                find_membership, runtime.db, principal.user_email, business_id
            )
        return authorize(operation, principal, business_id, membership)
