"""OData query options: parse $filter/$orderby/$top/$skip/$count/$select, shape collections.

Graph accepts the options with or without the `$` prefix; unknown options are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, cast

from fastapi import Request
from fastapi.responses import PlainTextResponse

from openvisit.errors import InvalidInput
from openvisit.graph.responses import public_url
from openvisit.listing import (
    BooleanGroup,
    Comparison,
    ComparisonOperator,
    Filter,
    FunctionCall,
    FunctionName,
    ListQuery,
    Negation,
    OrderBy,
    Page,
    Scalar,
)

MAX_FILTER_LENGTH = 2000
# Nesting of parentheses and `not`: real filters use a few levels; without a bound a few
# hundred parentheses exhaust the recursive parser (and the SQL compiler after it).
MAX_FILTER_DEPTH = 32
MAX_TOP = 1000
MAX_SKIP = 2**31 - 1  # fits OFFSET on every backend
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<punct>[(),])|(?P<number>[-+]?\d[\w:.+-]*)"
    r"|(?P<word>[A-Za-z_][\w./]*))"
)
_OPERATORS = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCTIONS = {"startswith", "endswith", "contains"}


@dataclass(frozen=True)
class QueryOptions:
    query: ListQuery
    select: tuple[str, ...] = ()


def _option(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(f"${name}")
    return value if value is not None else params.get(name)


def parse_options(request: Request, *, search_parameter: str | None = None) -> QueryOptions:
    params = request.query_params
    # A NUL anywhere in the query string was answered 400 already (graph/request_guards.py).
    top = _non_negative(_option(params, "top"), "$top")
    if top is not None and top > MAX_TOP:
        raise InvalidInput("queryOptionTooLarge", target="$top", option="$top", limit=MAX_TOP)
    count_text = (_option(params, "count") or "false").lower()
    if count_text not in ("true", "false"):
        raise InvalidInput("invalidCount", target="$count")
    filter_text = _option(params, "filter")
    query = ListQuery(
        filter=parse_filter(filter_text) if filter_text else None,
        order_by=parse_order_by(_option(params, "orderby") or ""),
        top=top,
        skip=_non_negative(_option(params, "skip"), "$skip") or 0,
        count=count_text == "true",
        search_text=_search_text(params.get(search_parameter)) if search_parameter else None,
    )
    selected = tuple(
        name.strip() for name in (_option(params, "select") or "").split(",") if name.strip()
    )
    return QueryOptions(query=query, select=selected)


def _search_text(text: str | None) -> str | None:
    cleaned = " ".join((text or "").split())
    return cleaned or None


def _non_negative(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    # ASCII digits only: "²".isdigit() is true but int() refuses it.
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput("notANonNegativeInteger", target=name, option=name, text=text)
    if len(text) > len(str(MAX_SKIP)) or int(text) > MAX_SKIP:
        raise InvalidInput("queryOptionTooLarge", target=name, option=name, limit=MAX_SKIP)
    return int(text)


def parse_order_by(text: str) -> tuple[OrderBy, ...]:
    items = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise InvalidInput("invalidOrderBy", item=part)
        items.append(OrderBy(words[0], descending=len(words) == 2 and words[1].lower() == "desc"))
    return tuple(items)


def parse_filter(text: str) -> Filter:
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput("filterTooLong", limit=MAX_FILTER_LENGTH)
    parser = _FilterParser(_tokenize(text))
    node = parser.expression()
    if parser.peek() is not None:
        raise InvalidInput("invalidFilter", detail=f"unexpected '{parser.peek()}'")
    return node


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidInput(
                "invalidFilter", detail=f"cannot read '{text[position : position + 20]}'"
            )
        kind = cast(str, match.lastgroup)
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _FilterParser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.index = tokens, 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise InvalidInput("invalidFilter", detail="the expression ends too early")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        _kind, text = self.take()
        if text != value:
            raise InvalidInput("invalidFilter", detail=f"expected '{value}', found '{text}'")

    def expression(self) -> Filter:
        return self._group("or", self._and)

    def _and(self) -> Filter:
        return self._group("and", self._unary)

    def _group(self, word: str, operand: Any) -> Filter:
        operands = [operand()]
        while (self.peek() or "").lower() == word:
            self.take()
            operands.append(operand())
        if len(operands) == 1:
            return cast(Filter, operands[0])
        return BooleanGroup(operator=cast(Any, word), operands=tuple(operands))

    def _unary(self) -> Filter:
        if (self.peek() or "").lower() == "not":
            self.take()
            with self._nested():
                return Negation(self._unary())
        if self.peek() == "(":
            self.take()
            with self._nested():
                node = self.expression()
            self.expect(")")
            return node
        kind, word = self.take()
        if kind != "word":
            raise InvalidInput("invalidFilter", detail=f"expected a property name, found '{word}'")
        if word.lower() in _FUNCTIONS and self.peek() == "(":
            return self._function(word.lower())
        operator = self.take()[1].lower()
        if operator not in _OPERATORS:
            raise InvalidInput(
                "invalidFilter",
                detail=f"'{operator}' is not a supported operator (eq, ne, gt, ge, lt, le)",
            )
        return Comparison(word, cast(ComparisonOperator, operator), self._literal())

    @contextmanager
    def _nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            raise InvalidInput("filterTooDeep", target="$filter", limit=MAX_FILTER_DEPTH)
        try:
            yield
        finally:
            self.depth -= 1

    def _function(self, name: str) -> Filter:
        self.expect("(")
        kind, prop = self.take()
        if kind != "word":
            raise InvalidInput("invalidFilter", detail=f"{name}() needs a property first")
        self.expect(",")
        value = self._literal()
        self.expect(")")
        if not isinstance(value, str):
            raise InvalidInput("invalidFilter", detail=f"{name}() needs a string literal")
        return FunctionCall(cast(FunctionName, name), prop, value)

    def _literal(self) -> Scalar:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            for convert in (int, float):
                try:
                    return convert(text)
                except ValueError:
                    continue
            return text  # a date or date-time literal; the column type decides
        keywords: dict[str, Scalar] = {"true": True, "false": False, "null": None}
        if kind == "word" and text.lower() in keywords:
            return keywords[text.lower()]
        raise InvalidInput("invalidFilter", detail=f"'{text}' is not a literal value")


def count_response(
    request: Request,
    count: Callable[[ListQuery], Page[Any]],
    *,
    search_parameter: str | None = None,
) -> PlainTextResponse:
    """A collection's `/$count`: the number of items `$filter` (and a search) match.

    `count` lists with the query given; paging does not change the number, so the query
    asks for no items, only the total.
    """
    query = parse_options(request, search_parameter=search_parameter).query
    page = count(replace(query, count=True, top=0, skip=0))
    return PlainTextResponse(str(page.total))


def select_properties(entity: dict[str, Any], selected: Iterable[str]) -> dict[str, Any]:
    """Keep annotations, `id` and the selected properties that exist; ignore the rest."""
    wanted = set(selected)
    if not wanted:
        return entity
    return {
        key: value
        for key, value in entity.items()
        if key.startswith("@") or key == "id" or key in wanted
    }


def collection(
    request: Request,
    context: str,
    page: Page[Any],
    values: list[dict[str, Any]],
    options: QueryOptions,
) -> dict[str, Any]:
    """A Graph collection body with @odata.context, @odata.count and @odata.nextLink."""
    body: dict[str, Any] = {"@odata.context": context}
    if page.total is not None:
        body["@odata.count"] = page.total
    body["value"] = [select_properties(value, options.select) for value in values]
    if page.next_skip is not None:
        params = {
            key: value
            for key, value in request.query_params.items()
            if key not in ("$skip", "skip", "$top", "top")
        }
        params["$skip"] = str(page.next_skip)
        if options.query.top is not None:
            params["$top"] = str(options.query.top - (page.next_skip - options.query.skip))
        next_url = request.url.replace_query_params(**params)
        body["@odata.nextLink"] = public_url(request, f"{next_url.path}?{next_url.query}")
    return body
