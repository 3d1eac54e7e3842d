"""Request dependencies for the web pages: the runtime, the client, the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from openvisit.addresses import Client, bounded_user_agent, client_address
from openvisit.auth.sessions import SESSION_COOKIE, SignedIn, signed_in_user
from openvisit.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain-def dependency on the thread pool, a needless hop here.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def request_client(request: Request, runtime: Runtime) -> Client:
    """The request's client address (behind the configured trusted proxies only) and
    user agent; the one place pages and, later, rate limits get them from."""
    peer = request.client.host if request.client is not None else None
    forwarded = request.headers.getlist("x-forwarded-for")
    return Client(
        address=client_address(peer, forwarded, runtime.trusted_proxies),
        user_agent=bounded_user_agent(request.headers.get("user-agent")),
    )


async def get_client(request: Request, runtime: RuntimeDep) -> Client:
    return request_client(request, runtime)


ClientDep = Annotated[Client, Depends(get_client)]


def get_signed_in(request: Request, runtime: RuntimeDep) -> SignedIn | None:
    """The staff user the session cookie names, or None when signed out (for any reason)."""
    return signed_in_user(runtime.db, runtime.clock, request.cookies.get(SESSION_COOKIE))


SignedInDep = Annotated[SignedIn | None, Depends(get_signed_in)]
