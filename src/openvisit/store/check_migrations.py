"""Fail when the models and the migrations disagree (run by scripts/check)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from openvisit.store.migrate import upgrade
from openvisit.store.models import Base


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'check.db'}"
        upgrade(url)
        engine = create_engine(url)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        engine.dispose()
    if differences:
        sys.stderr.write(f"models differ from migrations: {differences}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
