"""Server processes ask glibc for fewer malloc arenas (see openvisit/malloc_arenas.py)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "from openvisit.malloc_arenas import limit_arenas; print(limit_arenas())"


def _probe(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_glibc_takes_the_limit() -> None:
    assert _probe() == "True"  # this machine's Python runs on glibc


def test_an_operators_malloc_arena_max_is_left_alone() -> None:
    assert _probe(MALLOC_ARENA_MAX="4") == "False"
