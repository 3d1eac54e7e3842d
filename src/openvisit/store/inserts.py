"""Plain INSERTs into several tables at once, in one round trip where the database can.

The booking path writes an appointment, its staff holds, the audit row and perhaps an
idempotency key. Through the ORM's unit of work that was the largest part of a booking;
as separate INSERTs it is still one network round trip each on PostgreSQL. PostgreSQL
runs data-modifying statements in WITH clauses, so there they travel as one statement
(constraints, the exclusion constraint included, are checked as for separate ones). On
SQLite each is a local call and runs on its own.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, bindparam, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from openvisit.store.models import Base, table_of

Rows = Sequence[dict[str, Any]]
# (model, column names) per row, in order -> the one statement that inserts them all.
Shape = tuple[tuple[type[Base], tuple[str, ...]], ...]

# Statements built with bound parameters, one per shape: SQLAlchemy cannot cache the
# compiled form of an INSERT whose values are given inline (it compiled it on every
# booking), while one built from bindparams compiles once. Bookings come in few shapes.
_STATEMENTS: dict[Shape, Insert] = {}
_STATEMENTS_LOCK = threading.Lock()
MAX_SHAPES = 256


def insert_rows(session: Session, writes: Sequence[tuple[type[Base], Rows]]) -> None:
    """Insert each model's rows, in order."""
    rows = [(model, row) for model, model_rows in writes for row in model_rows]
    if session.get_bind().dialect.name != "postgresql" or len(rows) < 2:
        for model, model_rows in writes:
            if model_rows:
                session.execute(insert(table_of(model)), list(model_rows))
        return
    # A column left out of a row takes its model default, as a plain INSERT gives it;
    # the one-statement form would otherwise bind it under its bare name, unset.
    rows = [(model, {**_defaults(model), **row}) for model, row in rows]
    shape: Shape = tuple((model, tuple(row)) for model, row in rows)
    params = {
        _name(number, column): value
        for number, (_model, row) in enumerate(rows)
        for column, value in row.items()
    }
    session.execute(_statement(shape), params)


def _statement(shape: Shape) -> Insert:
    statement = _STATEMENTS.get(shape)
    if statement is not None:
        return statement
    inserts = []
    for number, (model, columns) in enumerate(shape):
        table = table_of(model)
        inserts.append(
            insert(table).values(
                {
                    column: bindparam(_name(number, column), type_=table.c[column].type)
                    for column in columns
                }
            )
        )
    *before, last = inserts
    statement = last.add_cte(*(item.cte(f"insert_{n}") for n, item in enumerate(before)))
    with _STATEMENTS_LOCK:
        if len(_STATEMENTS) >= MAX_SHAPES:
            _STATEMENTS.clear()
        _STATEMENTS[shape] = statement
    return statement


@functools.cache
def _defaults(model: type[Base]) -> dict[str, Any]:
    """The model's scalar column defaults (`default=0`), by column name."""
    return {
        column.name: column.default.arg
        for column in table_of(model).columns
        if isinstance(column.default, ScalarElementColumnDefault)
    }


def _name(number: int, column: str) -> str:
    return f"r{number}_{column}"
