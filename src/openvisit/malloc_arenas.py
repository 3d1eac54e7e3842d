"""Fewer glibc malloc arenas in each server process.

glibc gives every thread that allocates under contention an arena of its own, up to eight
per core. A server process runs its database work in a pool of worker threads, so the
short-lived objects of each WebSocket's arrival (rows, queries, frames) are spread over up
to sixteen arenas here, and the long-lived ones (each waiting connection's few objects)
among them keep pages of every arena from being given back. With 1,000 waiting-room
connections that was about 6 KiB of resident memory per connection of a 30 KB budget
(benchmarks/lobby_fanout.py; docs/performance.md, "Waiting room fan-out"). Two arenas
cost nothing measurable here: the threads spend their time in SQLite and PostgreSQL.
The same is what MALLOC_ARENA_MAX=2 does; an operator who set that variable chose.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's <malloc.h>
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most `arenas` arenas; call before the process starts threads.

    True when glibc took it; False elsewhere (musl, macOS) or when MALLOC_ARENA_MAX says.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas) == 1)
