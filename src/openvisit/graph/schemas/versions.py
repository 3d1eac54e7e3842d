"""What differs between the /v1.0 and /beta shapes of one Graph complex type.

The reference is each version's CSDL (msgraph-metadata: clean_v10_metadata and
clean_beta_metadata). Requests and the store use the v1.0 member names; a request may use
either version's names. A response is dumped with `context={"version": ...}` (see
`graph/responses.nested`), and a `Versioned` type then renames and drops members so each
version gets its own shape. Without that context (storing, the OpenAPI document) nothing
changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import SerializationInfo, SerializerFunctionWrapHandler, model_serializer

from openvisit.graph.schemas.types import GraphModel

ApiVersion = Literal["v1.0", "beta"]
V1: ApiVersion = "v1.0"
BETA: ApiVersion = "beta"


def response_version(info: SerializationInfo) -> ApiVersion | None:
    context = info.context
    return context.get("version") if isinstance(context, dict) else None


class Versioned(GraphModel):
    """A complex type whose members are not the same in v1.0 and beta."""

    # v1.0 member name -> its beta name (bookingWorkTimeSlot: startTime -> start)
    BETA_NAMES: ClassVar[Mapping[str, str]] = {}
    V1_ONLY: ClassVar[frozenset[str]] = frozenset()
    BETA_ONLY: ClassVar[frozenset[str]] = frozenset()
    # Complex members Graph returns as an object of nulls rather than null when unset.
    WHOLE: ClassVar[Mapping[str, type[GraphModel]]] = {}

    # No return annotation: pydantic would take it as the type's serialization schema and
    # blank this type's properties in the OpenAPI document.
    @model_serializer(mode="wrap")
    def _in_version(  # type: ignore[no-untyped-def]
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ):
        data = handler(self)
        version = response_version(info)
        if version is None or not isinstance(data, dict):
            return data
        return self._shaped(data, version, info)

    def _shaped(
        self, data: dict[str, Any], version: ApiVersion, info: SerializationInfo
    ) -> dict[str, Any]:
        absent = self.BETA_ONLY if version == V1 else self.V1_ONLY
        shaped: dict[str, Any] = {}
        for key, value in data.items():
            if key in absent:
                continue
            name = self.BETA_NAMES.get(key, key) if version == BETA else key
            shaped[name] = value
            if value is None and key in self.WHOLE:
                empty = self.WHOLE[key]()
                shaped[name] = empty.model_dump(by_alias=True, mode=info.mode, context=info.context)
        return shaped
