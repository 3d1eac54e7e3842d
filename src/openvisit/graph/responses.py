"""Small helpers for Graph response bodies: @odata.context, timestamps, nested values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from openvisit.graph.schemas.types import GraphModel
from openvisit.graph.schemas.versions import BETA, V1, ApiVersion


def api_version(request: Request) -> ApiVersion:
    """The version root the request came in on; each answers in its own shape."""
    return BETA if request.url.path.lstrip("/").split("/", 1)[0] == BETA else V1


def api_root(request: Request) -> str:
    """`OPENVISIT_BASE_URL/v1.0` or `.../beta`, whichever version the request used.

    The base URL setting, not the request's scheme and host: behind a TLS proxy the
    request arrives over plain HTTP, and links must name the address clients use.
    """
    return f"{request.app.state.runtime.base_url}/{api_version(request)}"


def public_url(request: Request, path_and_query: str) -> str:
    """An absolute link under the public base URL for a path (with its query) on this API."""
    return f"{request.app.state.runtime.base_url}{path_and_query}"


def context_url(request: Request, fragment: str) -> str:
    return f"{api_root(request)}/$metadata#{fragment}"


def quote_key(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def nested(model: type[GraphModel], value: Any, version: ApiVersion) -> Any:
    """Re-validate stored JSON so every documented key is present (null when unset), in
    the shape of the `version` asked for (see `graph/schemas/versions.py`)."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [nested(model, item, version) for item in value]
    validated = model.model_validate(value)
    return validated.model_dump(by_alias=True, mode="json", context={"version": version})


def stored(value: BaseModel | list[Any] | None) -> Any:
    """Dump a validated nested value in the camelCase shape the store keeps."""
    if value is None:
        return None
    if isinstance(value, list):
        return [stored(item) if isinstance(item, BaseModel) else item for item in value]
    return value.model_dump(by_alias=True, mode="json", exclude_none=True)
