"""Request dependencies for the web pages: the runtime and the signed-in staff user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from openvisit.auth.sessions import SESSION_COOKIE, SignedIn, signed_in_user
from openvisit.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain-def dependency on the thread pool, a needless hop here.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_signed_in(request: Request, runtime: RuntimeDep) -> SignedIn | None:
    """The staff user the session cookie names, or None when signed out (for any reason)."""
    return signed_in_user(
        runtime.db,
        runtime.secret_key,
        runtime.clock,
        request.cookies.get(SESSION_COOKIE),
        max_age_seconds=runtime.session_max_age_seconds,
    )


SignedInDep = Annotated[SignedIn | None, Depends(get_signed_in)]
