"""The connection gauges follow the real pool: checked out, and beyond the pool size."""

from __future__ import annotations

from contextlib import ExitStack

from prometheus_client import REGISTRY

from openvisit import telemetry


def _gauges() -> tuple[float, float]:
    return (
        REGISTRY.get_sample_value("openvisit_db_connections_checked_out") or 0.0,
        REGISTRY.get_sample_value("openvisit_db_connections_overflow") or 0.0,
    )


def test_connection_gauges_count_checkouts_and_overflow(database):
    telemetry.watch_pool(database.engine)
    size = database.engine.pool.size()
    before = _gauges()

    with ExitStack() as stack:
        for _ in range(size + 2):
            stack.enter_context(database.engine.connect())
        held = _gauges()

    assert held == (before[0] + size + 2, before[1] + 2)
    assert _gauges() == before
