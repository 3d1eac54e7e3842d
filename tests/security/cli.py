"""Run the real `openvisit` command in a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI_TIMEOUT_SECONDS = 60


def clean_environment(**settings: str) -> dict[str, str]:
    """The caller's environment without its OPENVISIT_* variables, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENVISIT_")}
    env.update({f"OPENVISIT_{name.upper()}": value for name, value in settings.items()})
    return env


def run_cli(
    *args: str, cwd: Path, user: int | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`python -m openvisit ARGS` in `cwd` (so no stray .env is read), given only `settings`."""
    return subprocess.run(
        [sys.executable, "-m", "openvisit", *args],
        env=clean_environment(**settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=CLI_TIMEOUT_SECONDS,
        user=user,
    )
