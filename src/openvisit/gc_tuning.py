"""The cyclic garbage collector in a server process: young collections less often.

A full collection walks every object the process holds: some 260,000 after start-up
(modules, SQLAlchemy's and pydantic's machinery) and about 90 more per waiting-room
connection, so at 5,000 connections one full pass takes 0.4-1.9 s on this 2-core
machine, every connection's frames stalled behind it. CPython starts a young collection
every 700 allocations; the arrivals' queue reads (a row, a waiter and a lobby view per
waiter) were still alive across several of those, so they were promoted, died old, and
counted towards the next full collection: 39 of them, 21 s in all, while 5,000 guests
arrived, and two during the one update that should reach them all within a second.

After 10,000 allocations instead, a read's objects are mostly freed by reference counting
before a collection sees them: 5 full collections (1 s) while the 5,000 arrived and none
during the update, which then reached all of them in 0.6 s instead of 1.9-3.9 s
(benchmarks/lobby_fanout.py; docs/performance.md, "Waiting room fan-out"). Reference
counting frees everything outside a cycle at once either way; the threshold only decides
how long cyclic garbage waits, and a young generation of 10,000 objects is small.

Only `openvisit serve` calls this, for its own process and each worker's; tests keep
CPython's defaults.

At exit the interpreter collects again, walking that whole heap on its way out: 0.5 s
of every `openvisit` command and every worker's stop (1.9 s to import the app and leave
with os._exit, 2.5 s leaving normally). Frozen first, the heap is skipped; it is about
to go anyway, and the operating system takes the memory back.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def skip_collecting_at_exit() -> None:
    """Move every object to the permanent generation; call last, just before exiting."""
    gc.freeze()


def tune_collector() -> None:
    """Collect the young generation after YOUNG_THRESHOLD allocations; call once, early."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
