"""The probe and the claim reach notifications through the claim index, never by a scan:
a server with years of sent messages polls as cheaply as a new one.

Each statement is captured while a dispatcher runs, then run again under EXPLAIN on a
database holding 20,000 sent rows: every access of `notifications` must be a range of
`ix_notifications_claim` bounded by status and available time. SQLite is checked
without statistics (the server never runs ANALYZE) and with them; PostgreSQL with them,
as autovacuum gathers them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, text

from openvisit.notify import queue
from openvisit.runtime import Runtime
from openvisit.store.db import Database
from openvisit.store.models import Notification, table_of
from tests.conftest import build_test_runtime
from tests.databases import requested_backends
from tests.notify.support import Visit, dispatcher, due_now, make_visit, plan

HISTORY = 20_000
CLAIM_INDEX = "ix_notifications_claim"


def _add_history(runtime: Runtime, visit: Visit) -> None:
    now = runtime.clock.now()
    for start in range(0, HISTORY, 2_000):
        rows = []
        for number in range(start, start + 2_000):
            when = now - timedelta(days=1 + number // 20)
            item = plan(visit, due_at=when, number=number, key=f"old-{number}")
            row, _queued = queue.rows_for(
                item, business_id=visit.business_id, appointment_id=visit.appointment_id, now=now
            )
            rows.append({**row, "status": "sent", "sent_at": when})
        with runtime.db.write() as session:
            session.execute(insert(table_of(Notification)), rows)


def _captured(db: Database, run: Callable[[], object]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM notifications" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def _sqlite_accesses(db: Database, statement: str, parameters: Any) -> list[str]:
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return [str(row[-1]) for row in rows if " notifications" in str(row[-1])]


def _postgres_accesses(db: Database, statement: str, parameters: Any) -> list[dict[str, Any]]:
    with db.engine.connect() as connection:
        raw = connection.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + statement, parameters
        ).scalar_one()
    tree = json.loads(raw) if isinstance(raw, str) else raw
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == "notifications" or (
            "Index Name" in node and node.get("Node Type") == "Bitmap Index Scan"
        ):
            found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(tree[0]["Plan"])
    return found


def _check(db: Database, statement: str, parameters: Any) -> None:
    if db.is_sqlite:
        accesses = _sqlite_accesses(db, statement, parameters)
        assert accesses, statement
        for detail in accesses:
            assert detail.startswith(f"SEARCH notifications USING INDEX {CLAIM_INDEX} "), detail
            assert "status=?" in detail and "available_at<?" in detail, detail
        return
    nodes = _postgres_accesses(db, statement, parameters)
    assert nodes, statement
    plan_text = json.dumps(nodes, indent=1)
    assert all(node["Node Type"] != "Seq Scan" for node in nodes), plan_text
    indexed = [node for node in nodes if "Index Name" in node]
    assert indexed, plan_text
    for node in indexed:
        assert node["Index Name"] == CLAIM_INDEX, plan_text
        assert "status" in node["Index Cond"] and "available_at" in node["Index Cond"], plan_text


def _history(runtime: Runtime, *, statistics: bool) -> Visit:
    visit = make_visit(runtime)
    _add_history(runtime, visit)
    if statistics:
        with runtime.db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return visit


@pytest.fixture
def sqlite_runtime(sqlite_template, clock):
    with sqlite_template.database() as database:
        yield build_test_runtime(database, clock)


def _claim_reads_only_open_rows(runtime: Runtime, visit: Visit) -> None:
    due_now(runtime, visit, count=3)
    sender = dispatcher(runtime.db, runtime.clock)

    reads = _captured(runtime.db, lambda: asyncio.run(sender.claim()))

    assert len(reads) == 2  # the probe, then the claim
    assert "LIMIT" in reads[0][0].upper()
    assert "ORDER BY notifications.available_at" in reads[1][0]
    if not runtime.db.is_sqlite:
        assert "FOR UPDATE SKIP LOCKED" in reads[1][0]
    for statement, parameters in reads:
        _check(runtime.db, statement, parameters)


def _idle_probe_reads_only_open_rows(runtime: Runtime) -> None:
    sender = dispatcher(runtime.db, runtime.clock)

    reads = _captured(runtime.db, lambda: asyncio.run(sender.run_once()))

    assert len(reads) == 1  # nothing due: no claim at all
    _check(runtime.db, *reads[0])


def test_the_probe_and_the_claim_read_only_open_rows(runtime):
    visit = _history(runtime, statistics=True)
    _idle_probe_reads_only_open_rows(runtime)
    _claim_reads_only_open_rows(runtime, visit)


# Without statistics as the embedded server runs; PostgreSQL's autovacuum always has them.
@pytest.mark.parametrize("backend", [name for name in requested_backends() if name == "sqlite"])
def test_without_statistics_sqlite_still_reads_only_open_rows(backend, sqlite_runtime):
    visit = _history(sqlite_runtime, statistics=False)
    _idle_probe_reads_only_open_rows(sqlite_runtime)
    _claim_reads_only_open_rows(sqlite_runtime, visit)
