"""A neutral description of a collection request ($filter, $orderby, $top, $skip...).

The REST layer parses OData text into these values; the store turns them into SQL.
Property names are the API's (camelCase); each resource maps them to columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

ComparisonOperator = Literal["eq", "ne", "gt", "ge", "lt", "le"]
FunctionName = Literal["startswith", "endswith", "contains"]
Scalar = str | int | float | bool | None
T = TypeVar("T")


@dataclass(frozen=True)
class Comparison:
    property: str
    operator: ComparisonOperator
    value: Scalar


@dataclass(frozen=True)
class FunctionCall:
    function: FunctionName
    property: str
    value: str


@dataclass(frozen=True)
class BooleanGroup:
    operator: Literal["and", "or"]
    operands: tuple[Filter, ...]


@dataclass(frozen=True)
class Negation:
    operand: Filter


Filter = Comparison | FunctionCall | BooleanGroup | Negation


@dataclass(frozen=True)
class OrderBy:
    property: str
    descending: bool = False


@dataclass(frozen=True)
class ListQuery:
    filter: Filter | None = None
    order_by: tuple[OrderBy, ...] = ()
    top: int | None = None
    skip: int = 0
    count: bool = False
    search_text: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int | None = None
    next_skip: int | None = None
