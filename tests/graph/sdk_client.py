"""Drive a running OpenVisit server with the official Microsoft Graph SDKs: msgraph-sdk
for `/v1.0` and msgraph-beta-sdk for `/beta`.

The client is built exactly as an integrator points the SDK at a non-Microsoft host: a
bearer-token provider around an OpenVisit API token, and the request adapter's base URL
set to the server's version root before the GraphServiceClient is constructed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_abstractions.serialization import Parsable
from kiota_http.middleware.options import ResponseHandlerOption
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_beta.graph_request_adapter import GraphRequestAdapter as BetaGraphRequestAdapter
from msgraph_beta.graph_service_client import GraphServiceClient as BetaGraphServiceClient
from msgraph_core import GraphClientFactory

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
Adapter = TypeVar("Adapter", GraphRequestAdapter, BetaGraphRequestAdapter)
Client = TypeVar("Client")

# Bookkeeping fields of every generated model; they are not Graph properties.
SDK_INTERNAL_FIELDS = frozenset({"backing_store", "additional_data", "odata_type"})


class StaticTokenProvider(AccessTokenProvider):
    """Hands the SDK one OpenVisit API token, only for the allowed hosts."""

    def __init__(self, token: str, allowed_hosts: list[str]) -> None:
        self._token = token
        self._hosts = AllowedHostsValidator(allowed_hosts)

    async def get_authorization_token(
        self,
        uri: str,
        additional_authentication_context: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> str:
        return self._token if self._hosts.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


@asynccontextmanager
async def request_adapter(
    base_url: str, token: str, adapter_class: type[Adapter], root: str
) -> AsyncIterator[Adapter]:
    """An SDK request adapter for `base_url` (http://host:port) + `/root`; closed on exit."""
    host = urlsplit(base_url).hostname or ""
    auth = BaseBearerTokenAuthenticationProvider(StaticTokenProvider(token, [host]))
    # msgraph-core wraps the transport in one whose aclose() does not reach the connection
    # pool, so the pool is kept here and closed explicitly (no sockets left open).
    pool = httpx.AsyncHTTPTransport()
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(transport=pool)
    )
    adapter = adapter_class(auth, client=http)
    adapter.base_url = f"{base_url}/{root}"  # before the client copies it into its paths
    try:
        yield adapter
    finally:
        await http.aclose()
        await pool.aclose()


@asynccontextmanager
async def graph_client(base_url: str, token: str) -> AsyncIterator[GraphServiceClient]:
    """A msgraph-sdk GraphServiceClient talking to the server's /v1.0; closed on exit."""
    async with request_adapter(base_url, token, GraphRequestAdapter, "v1.0") as adapter:
        yield GraphServiceClient(request_adapter=adapter)


@asynccontextmanager
async def beta_graph_client(base_url: str, token: str) -> AsyncIterator[BetaGraphServiceClient]:
    """A msgraph-beta-sdk GraphServiceClient talking to the server's /beta; closed on exit."""
    async with request_adapter(base_url, token, BetaGraphRequestAdapter, "beta") as adapter:
        yield BetaGraphServiceClient(request_adapter=adapter)


def run_in(
    connect: Callable[[], AbstractAsyncContextManager[Client]],
    scenario: Callable[[Client], Awaitable[T]],
) -> T:
    """Run an async scenario with a client from `connect`, from synchronous test code."""

    async def main() -> T:
        async with connect() as client:
            return await scenario(client)

    return asyncio.run(main())


def run_with_client(
    base_url: str, token: str, scenario: Callable[[GraphServiceClient], Awaitable[T]]
) -> T:
    """Run an async scenario against the server's /v1.0 (msgraph-sdk)."""
    return run_in(lambda: graph_client(base_url, token), scenario)


def run_with_beta_client(
    base_url: str, token: str, scenario: Callable[[BetaGraphServiceClient], Awaitable[T]]
) -> T:
    """Run an async scenario against the server's /beta (msgraph-beta-sdk)."""
    return run_in(lambda: beta_graph_client(base_url, token), scenario)


class Page(Protocol[T_co]):
    """A collection response of the SDK: one page of entities."""

    @property
    def value(self) -> Sequence[T_co] | None: ...


def present(value: T | None) -> T:
    """A value the SDK types as optional (every property and answer) that must be there."""
    assert value is not None, "the server left out a value it must send"
    return value


def items(page: Page[T] | None) -> list[T]:
    """The entities of a collection answer."""
    return list(present(present(page).value))


async def raw(call: Awaitable[object]) -> httpx.Response:
    """The httpx.Response of a call made with native_response() (typed as the model)."""
    response = await call
    assert isinstance(response, httpx.Response), response
    return response


def native_response() -> RequestConfiguration[Any]:
    """Make one SDK call hand back the raw httpx.Response (to check status codes)."""
    return RequestConfiguration(options=[ResponseHandlerOption(NativeResponseHandler())])


def prefer(preference: str) -> RequestConfiguration[Any]:
    """Request configuration sending `Prefer: <preference>`."""
    config: RequestConfiguration[Any] = RequestConfiguration()
    config.headers.add("Prefer", preference)
    return config


def graph_properties(model: Parsable) -> dict[str, Any]:
    """The Graph properties of an SDK model object, by their Python names."""
    assert dataclasses.is_dataclass(model), f"{type(model).__name__} is not an SDK model"
    return {
        field.name: getattr(model, field.name)
        for field in dataclasses.fields(model)
        if field.name not in SDK_INTERNAL_FIELDS
    }


def set_properties(model: Parsable) -> set[str]:
    """Names of the properties that carry a value."""
    return {name for name, value in graph_properties(model).items() if value is not None}


def unset_properties(model: Parsable, *, except_for: Iterable[str] = ()) -> set[str]:
    """Properties left None: proves a test writes every writable property the SDK knows."""
    skipped = set(except_for)
    return {
        name
        for name, value in graph_properties(model).items()
        if value is None and name not in skipped
    }


def differences(written: Any, read: Any, path: str = "") -> list[str]:
    """Where `read` does not carry what `written` sets (None in `written` means unset).

    Models compare property by property, lists item by item; plain values with ==.
    """
    if isinstance(written, Parsable) and dataclasses.is_dataclass(written):
        if not isinstance(read, type(written)):
            return [f"{path or '.'}: expected {type(written).__name__}, got {read!r}"]
        found: list[str] = []
        for name, value in graph_properties(written).items():
            if value is not None:
                found += differences(value, getattr(read, name), f"{path}.{name}")
        return found
    if isinstance(written, list):
        if not isinstance(read, list) or len(read) != len(written):
            return [f"{path}: expected {len(written)} items, got {read!r}"]
        found = []
        for index, (left, right) in enumerate(zip(written, read, strict=True)):
            found += differences(left, right, f"{path}[{index}]")
        return found
    if written != read or type(written) is not type(read):
        return [f"{path}: wrote {written!r}, read {read!r}"]
    return []


def assert_round_trip(written: Any, read: Any) -> None:
    problems = differences(written, read)
    assert not problems, "properties did not round-trip:\n" + "\n".join(problems)
