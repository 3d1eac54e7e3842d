import pytest

from openvisit.errors import InvalidInput
from openvisit.graph.odata import parse_filter, parse_order_by
from openvisit.listing import BooleanGroup, Comparison, FunctionCall, Negation, OrderBy


def test_and_binds_tighter_than_or():
    node = parse_filter("a eq 1 or b eq 2 and c eq 3")

    assert node == BooleanGroup(
        "or",
        (
            Comparison("a", "eq", 1),
            BooleanGroup("and", (Comparison("b", "eq", 2), Comparison("c", "eq", 3))),
        ),
    )


def test_parentheses_not_and_functions():
    node = parse_filter("not (startswith(displayName, 'A''s') or x ne null)")

    assert node == Negation(
        BooleanGroup(
            "or", (FunctionCall("startswith", "displayName", "A's"), Comparison("x", "ne", None))
        )
    )


def test_literals_keep_their_types():
    assert parse_filter("p eq 1.5") == Comparison("p", "eq", 1.5)
    assert parse_filter("p eq true") == Comparison("p", "eq", True)
    assert parse_filter("t ge 2026-01-01T00:00:00Z") == Comparison(
        "t", "ge", "2026-01-01T00:00:00Z"
    )


@pytest.mark.parametrize(
    "text",
    [
        "a eq",
        "(a eq 1",
        "a eq 1)",
        "eq 1",
        "a eq 'x",
        "a eq b",
        "startswith(a)",
        "a eq 1 and",
        "a § 1",
    ],
)
def test_malformed_filters_are_invalid_input(text):
    with pytest.raises(InvalidInput):
        parse_filter(text)


def test_order_by():
    assert parse_order_by("a desc, b,c asc") == (OrderBy("a", True), OrderBy("b"), OrderBy("c"))
