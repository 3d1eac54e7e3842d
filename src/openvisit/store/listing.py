"""Turn a `ListQuery` into SQL over one model, given which API properties map to columns.

Filtering and ordering happen in the database so a page of 10 customers out of 50,000
costs one indexed query, not a scan in Python.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from openvisit.errors import InvalidInput
from openvisit.listing import (
    BooleanGroup,
    Comparison,
    Filter,
    FunctionCall,
    ListQuery,
    Negation,
    Page,
)

Columns = Mapping[str, InstrumentedAttribute[Any]]
# Integer columns are 32-bit on PostgreSQL; a bound parameter outside fails the query.
INTEGER_RANGE = (-(2**31), 2**31 - 1)


def fetch_page(
    session: Session,
    statement: Select[Any],
    query: ListQuery,
    columns: Columns,
    *,
    default_order: Sequence[InstrumentedAttribute[Any]],
    page_size: int,
) -> Page[Any]:
    """Run `statement` with the query's filter, order, skip and top; count if asked."""
    if query.filter is not None:
        statement = statement.where(_condition(query.filter, columns))
    total = None
    if query.count:
        counted = select(func.count()).select_from(statement.order_by(None).subquery())
        total = session.execute(counted).scalar_one()
    ordering = [_order(item.property, item.descending, columns) for item in query.order_by]
    statement = statement.order_by(*ordering, *default_order)
    limit = min(query.top, page_size) if query.top is not None else page_size
    rows = list(session.scalars(statement.offset(query.skip).limit(limit + 1)))
    # A page cut by the server's size (not by the client's $top) gets a next link.
    cut = len(rows) > limit and (query.top is None or query.top > limit)
    return Page(
        items=tuple(rows[:limit]), total=total, next_skip=query.skip + limit if cut else None
    )


def _column(name: str, columns: Columns) -> InstrumentedAttribute[Any]:
    column = columns.get(name)
    if column is None:
        allowed = ", ".join(sorted(columns))
        raise InvalidInput("unknownProperty", target=name, property=name, allowed=allowed)
    return column


def _order(name: str, descending: bool, columns: Columns) -> ColumnElement[Any]:
    column = _column(name, columns)
    return column.desc() if descending else column.asc()


def _condition(node: Filter, columns: Columns) -> ColumnElement[bool]:
    if isinstance(node, BooleanGroup):
        parts = [_condition(operand, columns) for operand in node.operands]
        return and_(*parts) if node.operator == "and" else or_(*parts)
    if isinstance(node, Negation):
        return not_(_condition(node.operand, columns))
    if isinstance(node, FunctionCall):
        return _function(node, columns)
    return _comparison(node, columns)


def _comparison(node: Comparison, columns: Columns) -> ColumnElement[bool]:
    column = _column(node.property, columns)
    value = _coerce(node.property, column, node.value)
    if value is None:
        if node.operator not in ("eq", "ne"):
            raise InvalidInput(
                "invalidFilter", detail=f"null can only be compared with eq or ne ({node.property})"
            )
        return column.is_(None) if node.operator == "eq" else column.is_not(None)
    operations = {
        "eq": column.__eq__,
        "ne": column.__ne__,
        "gt": column.__gt__,
        "ge": column.__ge__,
        "lt": column.__lt__,
        "le": column.__le__,
    }
    return operations[node.operator](value)


def _function(node: FunctionCall, columns: Columns) -> ColumnElement[bool]:
    column = _column(node.property, columns)
    if column.type.python_type is not str:
        raise InvalidInput(
            "invalidFilter",
            detail=f"{node.function}() needs a text property, not '{node.property}'",
        )
    # Graph string functions are case-insensitive; lower() both sides on every backend.
    lowered, needle = func.lower(column), node.value.lower()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    patterns = {"startswith": f"{escaped}%", "endswith": f"%{escaped}", "contains": f"%{escaped}%"}
    return lowered.like(patterns[node.function], escape="\\")


def _coerce(name: str, column: InstrumentedAttribute[Any], value: Any) -> Any:
    if value is None:
        return None
    expected = column.type.python_type
    if expected is bool and isinstance(value, bool):
        return value
    if expected is int and isinstance(value, float) and not value.is_integer():
        # PostgreSQL would round 1.5 to 2 and SQLite match nothing; say what is wrong instead.
        raise InvalidInput(
            "invalidFilter", target=name, detail=f"'{name}' holds whole numbers, not {value}"
        )
    if expected in (int, float) and isinstance(value, int | float) and not isinstance(value, bool):
        if _fits(expected, value):
            return value
        raise InvalidInput(
            "invalidFilter", target=name, detail=f"a number is out of range for '{name}'"
        )
    if expected is str and isinstance(value, str):
        return value
    if expected is datetime and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                parsed.astimezone(UTC)  # stored as UTC: must stay within years 1-9999 there
        except (ValueError, OverflowError):
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise InvalidInput(
        "invalidFilter", target=name, detail=f"the value {value!r} does not fit '{name}'"
    )


def _fits(expected: type, value: float) -> bool:
    if expected is int:
        return INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer literal beyond any double
        return False
