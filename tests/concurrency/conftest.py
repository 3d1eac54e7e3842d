"""Fixtures for the race tests: a PostgreSQL database without the overlap backstop."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.databases import PostgresDatabase

BACKSTOP = "ex_staff_holds_no_overlap"


@pytest.fixture(scope="session")
def postgres_without_backstop() -> Iterator[PostgresDatabase]:
    """A database of its own, migrated, then stripped of the exclusion constraint.

    The control tests book into it with the advisory locks switched off; a database of
    their own means no other test can ever run while the constraint is missing.
    """
    database = PostgresDatabase()
    url = database.url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"ALTER TABLE staff_holds DROP CONSTRAINT {BACKSTOP}")
        yield database
    finally:
        database.drop()
