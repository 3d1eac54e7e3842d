"""Environments for `openvisit` subprocesses that the caller's settings cannot change."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import TEST_SECRET


def hermetic_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without the caller's OPENVISIT_* and Prometheus settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("OPENVISIT_") and name.upper() != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(OPENVISIT_DATA_DIR=str(data_dir), OPENVISIT_SECRET_KEY=TEST_SECRET)
    env.update({f"OPENVISIT_{name.upper()}": value for name, value in settings.items()})
    return env
