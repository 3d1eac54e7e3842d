"""Turn a validated request body into the column changes a service applies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from openvisit.errors import InvalidInput
from openvisit.graph.responses import stored


def seconds(value: timedelta) -> int:
    return int(value.total_seconds())


def body_changes(
    body: BaseModel,
    *,
    not_null: frozenset[str] = frozenset(),
    columns: Mapping[str, str] | None = None,
    converters: Mapping[str, Callable[[Any], Any]] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Only the properties the client sent (PATCH semantics), plus `defaults` on create.

    Nested models are stored in their camelCase JSON shape; `columns` renames a property
    to its column (defaultDuration -> default_duration_seconds) and `converters` change
    its type on the way.
    """
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    values = {**(defaults or {}), **sent}
    changes: dict[str, Any] = {}
    for name, value in values.items():
        alias = type(body).model_fields[name].alias or name
        if value is None and name in not_null:
            raise InvalidInput("propertyNotNull", target=alias, property=alias)
        column = (columns or {}).get(name, name)
        if value is not None and converters and name in converters:
            changes[column] = converters[name](value)
        elif isinstance(value, BaseModel | list):
            changes[column] = stored(value)
        else:
            changes[column] = value
    return changes


def require(body: BaseModel, *names: str) -> None:
    for name in names:
        if getattr(body, name) is None:
            alias = type(body).model_fields[name].alias or name
            raise InvalidInput("propertyRequired", target=alias, property=alias)
