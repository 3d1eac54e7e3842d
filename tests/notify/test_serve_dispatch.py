"""`openvisit serve` sends due notifications itself; with --workers 2 both worker
processes dispatch, and still each message goes out once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from openvisit import cli
from openvisit.notify.transports import registry
from tests.live import SHARED_REDIS_URL, free_port, stop_server_group
from tests.notify.processes import (
    count_status,
    environment,
    event_counts,
    notification_keys,
    outbox_keys,
    real_time_runtime,
    wait_until,
    workers_that,
)
from tests.notify.support import due_now, make_visit

WAIT = 120.0


def _serve(env: dict[str, str], workers: int, log_path: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "openvisit", "serve", "--workers", str(workers)]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [*command, "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def test_serve_with_two_workers_sends_each_due_notification_once(database, tmp_path):
    runtime = real_time_runtime(database)
    visit = make_visit(runtime)
    total = 500
    due_now(runtime, visit, count=total)
    env = environment(database, tmp_path, notification_batch_size=10, redis_url=SHARED_REDIS_URL)
    log = tmp_path / "serve.log"

    server = _serve(env, 2, log, free_port())
    try:
        wait_until(lambda: count_status(database, "sent") == total, f"{total} sends", WAIT)
    finally:
        stop_server_group(server, wait_seconds=30)
    assert server.returncode == 0, log.read_text()

    sent = outbox_keys(database)
    assert set(sent) == set(notification_keys(database))
    assert set(sent.values()) == {1}
    assert set(event_counts(database, "sent").values()) == {1}
    assert count_status(database, "sending") == 0
    # Both worker processes dispatch (app.py says why), each with an id of its own.
    assert len(workers_that(database, "claimed")) == 2


def test_serve_leaves_sending_to_workers_when_told_to(database, tmp_path):
    runtime = real_time_runtime(database)
    visit = make_visit(runtime)
    due_now(runtime, visit, count=5)
    env = environment(database, tmp_path, notifications_in_server="false")
    log = tmp_path / "serve.log"

    server = _serve(env, 1, log, free_port())
    try:
        wait_until(lambda: "Application startup complete" in log.read_text(), "start", WAIT)
        time.sleep(1.0)  # ten of a dispatcher's polls (every 0.1 s), had one run
    finally:
        stop_server_group(server, wait_seconds=30)

    assert count_status(database, "pending") == 5
    assert outbox_keys(database) == {}


def test_serve_refuses_a_transport_no_table_holds_before_serving(
    database, tmp_path, monkeypatch, capsys
):
    # A name the settings allow but this build has no transport for (as smtp was
    # before its branch): the table, not the settings, is what decides.
    monkeypatch.setattr(
        registry, "EMAIL_TRANSPORTS", {"outbox": registry.EMAIL_TRANSPORTS["outbox"]}
    )
    smtp = {"smtp_host": "127.0.0.1", "smtp_from_address": "visits@example.test"}
    for name, value in environment(database, tmp_path, email_transport="smtp", **smtp).items():
        if name.startswith("OPENVISIT_"):
            monkeypatch.setenv(name, value)

    assert cli.main(["serve", "--port", str(free_port())]) == 2

    assert capsys.readouterr().err.splitlines()[-1] == (
        "openvisit: OPENVISIT_EMAIL_TRANSPORT is 'smtp', which this OpenVisit does not "
        "provide; use one of: outbox."
    )
