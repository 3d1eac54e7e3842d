"""`openvisit worker`: sends what is due, stops gracefully, and survives being killed.

Each message reaches the outbox (one table for every process) once per idempotency key;
the outbox keeps a row per send, so a message sent twice shows as two rows.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from datetime import timedelta

import psycopg
import pytest

from openvisit.store.migrate import upgrade
from tests.databases import POSTGRES_ADMIN_URL, requested_backends
from tests.notify.processes import (
    WORKER,
    count_status,
    environment,
    event_counts,
    notification_keys,
    outbox_keys,
    real_time_runtime,
    stop,
    wait_until,
    worker,
    workers_that,
)
from tests.notify.support import due_now, make_visit

WAIT = 90.0


def test_a_worker_sends_what_is_due_then_stops_on_sigterm(database, tmp_path):
    runtime = real_time_runtime(database)
    visit = make_visit(runtime)
    due_now(runtime, visit, count=40)
    log = tmp_path / "worker.log"

    with worker(environment(database, tmp_path), log) as process:
        wait_until(lambda: count_status(database, "sent") == 40, "40 sends", WAIT)
        assert stop(process) == 0

    assert set(outbox_keys(database).values()) == {1}
    assert set(outbox_keys(database)) == set(notification_keys(database))
    text = log.read_text()
    assert "sending due notifications (e-mail: outbox, SMS: outbox)" in text
    assert text.rstrip().endswith(": stopped")


def test_once_sends_what_is_due_now_and_exits(database, tmp_path):
    runtime = real_time_runtime(database)
    visit = make_visit(runtime)
    due_now(runtime, visit, count=25)
    due_now(runtime, visit, due_at=runtime.clock.now() + timedelta(hours=1), key="later")

    finished = subprocess.run(
        [*WORKER, "--once"],
        env=environment(database, tmp_path),
        capture_output=True,
        timeout=WAIT,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    assert count_status(database, "sent") == 25
    assert count_status(database, "pending") == 1
    assert "later" not in outbox_keys(database)


def test_a_worker_killed_mid_drain_loses_nothing_and_the_next_one_finishes(database, tmp_path):
    """SIGKILL at an arbitrary moment: the rows it had claimed come back after the lease.

    The one thing a kill can cost is the limit docs/notifications.md states: a send the
    outbox (the provider) accepted whose outcome was not committed yet is sent again by
    the next worker. So every row ends sent, and a key may reach the outbox twice only
    if the killed worker had claimed it and the next one reclaimed it, at most one
    batch of them.
    """
    runtime = real_time_runtime(database)
    visit = make_visit(runtime)
    total, batch = 600, 20
    due_now(runtime, visit, count=total)
    env = environment(
        database,
        tmp_path,
        notification_batch_size=batch,
        notification_concurrency=4,
        notification_lease_seconds=3,
        notification_send_timeout_seconds=1,
    )

    with worker(env, tmp_path / "first.log") as first:
        wait_until(lambda: count_status(database, "sent") >= 100, "100 sends", WAIT)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert count_status(database, "sent") < total, "the kill came too late to test anything"

    with worker(env, tmp_path / "second.log") as second:
        wait_until(lambda: count_status(database, "sent") == total, "the rest sent", WAIT)
        assert stop(second) == 0

    keys = notification_keys(database)
    sent = outbox_keys(database)
    assert set(sent) == set(keys)  # nothing lost
    twice = {key for key, count in sent.items() if count > 1}
    assert all(sent[key] == 2 for key in twice)
    reclaimed = event_counts(database, "reclaimed")
    assert all(reclaimed[keys[key]] == 1 for key in twice)
    assert len(twice) <= batch
    assert set(event_counts(database, "sent").values()) == {1}


def test_sigterm_mid_drain_hands_the_rest_back_and_nothing_is_sent_twice(database, tmp_path):
    runtime = real_time_runtime(database)
    visit = make_visit(runtime)
    total = 400
    due_now(runtime, visit, count=total)
    env = environment(database, tmp_path, notification_batch_size=50)

    with worker(env, tmp_path / "first.log") as first:
        wait_until(lambda: count_status(database, "sent") >= 50, "50 sends", WAIT)
        assert stop(first) == 0
    assert count_status(database, "sending") == 0  # in flight finished, the rest released
    assert count_status(database, "sent") < total

    with worker(env, tmp_path / "second.log") as second:
        wait_until(lambda: count_status(database, "sent") == total, "the rest sent", WAIT)
        assert stop(second) == 0

    sent = outbox_keys(database)
    assert set(sent) == set(notification_keys(database))
    assert set(sent.values()) == {1}


def test_a_worker_refuses_a_database_that_is_not_migrated(database, tmp_path):
    if database.is_sqlite:
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, "0007")
        expected_revision = "0007"
    else:
        url = _empty_postgres_database()
        expected_revision = "none (it is empty)"
    try:
        env = {**environment(database, tmp_path), "OPENVISIT_DATABASE_URL": url}
        finished = subprocess.run(
            WORKER, env=env, capture_output=True, text=True, timeout=WAIT, check=False
        )
    finally:
        if not database.is_sqlite:
            _drop_postgres_database(url)

    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()
    assert line.startswith("openvisit: The database (")
    assert f"is at revision {expected_revision}, not " in line
    assert "Run `openvisit db upgrade`" in line


def test_a_worker_without_a_secret_key_refuses_to_start(database, tmp_path):
    env = environment(database, tmp_path)
    del env["OPENVISIT_SECRET_KEY"]

    finished = subprocess.run(
        WORKER, env=env, capture_output=True, text=True, timeout=WAIT, check=False
    )

    assert finished.returncode == 2
    assert finished.stderr.startswith("openvisit: No secret key to sign the links in messages")


# Several processes sharing the load is PostgreSQL's: FOR UPDATE SKIP LOCKED.
@pytest.mark.parametrize("backend", [name for name in requested_backends() if name == "postgresql"])
def test_four_workers_drain_ten_thousand_notifications_each_sent_once(
    backend, postgres_database, tmp_path
):
    total = 10_000
    with postgres_database.database() as database:
        runtime = real_time_runtime(database)
        visit = make_visit(runtime)
        due_now(runtime, visit, count=total)
        env = environment(database, tmp_path, notification_batch_size=100)
        logs = [tmp_path / f"worker-{n}.log" for n in range(4)]

        with (
            worker(env, logs[0]) as a,
            worker(env, logs[1]) as b,
            worker(env, logs[2]) as c,
            worker(env, logs[3]) as d,
        ):
            took = wait_until(lambda: count_status(database, "sent") == total, "10,000 sends", 300)
            assert [stop(process) for process in (a, b, c, d)] == [0, 0, 0, 0]
        sys.stderr.write(f"4 workers sent {total} notifications in {took:.1f} s\n")

        sent = outbox_keys(database)
        assert len(sent) == total
        assert set(sent) == set(notification_keys(database))
        assert set(sent.values()) == {1}
        assert count_status(database, "sent") == total
        assert set(event_counts(database, "sent").values()) == {1}
        assert len(workers_that(database, "sent")) >= 2  # the load was shared


def _empty_postgres_database() -> str:
    name = f"openvisit_empty_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def _drop_postgres_database(url: str) -> None:
    name = url.rpartition("/")[2]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
