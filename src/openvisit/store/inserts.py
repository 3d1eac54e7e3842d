"""Plain INSERTs into several tables at once, in one round trip where the database can.

The booking path writes an appointment, its staff holds, the audit row and perhaps an
idempotency key. Through the ORM's unit of work that was the largest part of a booking;
as separate INSERTs it is still one network round trip each on PostgreSQL. PostgreSQL
runs data-modifying statements in WITH clauses, so there they travel as one statement
(constraints, the exclusion constraint included, are checked as for separate ones). On
SQLite each is a local call and runs on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from openvisit.store.models import Base, table_of

Rows = Sequence[dict[str, Any]]


def insert_rows(session: Session, writes: Sequence[tuple[type[Base], Rows]]) -> None:
    """Insert each model's rows, in order; rows of one model share the same keys."""
    writes = [(model, rows) for model, rows in writes if rows]
    if session.get_bind().dialect.name != "postgresql" or len(writes) < 2:
        for model, rows in writes:
            session.execute(insert(table_of(model)), list(rows))
        return
    statements = [insert(table_of(model)).values(list(rows)) for model, rows in writes]
    *before, last = statements
    session.execute(
        last.add_cte(*(statement.cte(f"insert_{n}") for n, statement in enumerate(before)))
    )
