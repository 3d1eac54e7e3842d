"""The CLI against a real data folder, as a person runs it beside a server."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openvisit import cli, gc_tuning, malloc_arenas, workers
from openvisit.app import create_app
from openvisit.cli import WEBSOCKET_OPTIONS, main
from openvisit.clock import FixedClock
from openvisit.config import Settings
from openvisit.store.db import Database
from tests.conftest import TEST_NOW, TEST_SECRET, build_test_runtime
from tests.live import SHARED_REDIS_URL, free_port, stop_server_group, worker_pids

SERVE_WAIT_SECONDS = 30


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENVISIT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OPENVISIT_DATABASE_URL", raising=False)
    return tmp_path


def test_token_create_prints_the_token_alone_on_the_last_line(data_env, capsys):
    assert (
        main(
            [
                "user",
                "create",
                "--email",
                "ann@example.test",
                "--role",
                "scheduler",
                "--password",
                "long-enough",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "token",
                "create",
                "--name",
                "ci",
                "--scopes",
                "Bookings.Read.All BookingsAppointment.ReadWrite.All",
                "--user",
                "ann@example.test",
            ]
        )
        == 0
    )

    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("ovt_")
    assert " " not in last


def test_tokens_are_listed_without_secrets_and_can_be_revoked(data_env, capsys):
    main(["token", "create", "--name", "ci", "--scopes", "Bookings.Read.All"])
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    main(["token", "list"])
    listing = capsys.readouterr().out
    token_id = listing.split()[0]

    assert secret not in listing
    assert "active" in listing
    assert main(["token", "revoke", token_id]) == 0
    main(["token", "list"])
    assert "revoked" in capsys.readouterr().out


def test_unknown_scope_is_refused(data_env, capsys):
    assert main(["token", "create", "--name", "x", "--scopes", "Bookings.Everything"]) == 2
    assert "unknown scope" in capsys.readouterr().err


def test_config_masks_secrets(data_env, capsys, monkeypatch):
    monkeypatch.setenv("OPENVISIT_SECRET_KEY", "s" * 40)

    assert main(["config"]) == 0
    printed = json.loads(capsys.readouterr().out)

    assert printed["secret_key"] == "********"
    assert printed["data_dir"] == str(data_env)
    assert (printed["workers"], printed["threads"]) == (1, 8)


def test_demo_seeds_and_prints_an_admin_token(data_env, capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out

    assert "contosohealth@openvisit.local" in out
    assert out.strip().splitlines()[-1].startswith("ovt_")


def test_demo_run_twice_adds_nothing_and_hands_out_a_new_token(data_env, capsys):
    assert main(["demo"]) == 0
    first = capsys.readouterr().out.strip().splitlines()[-1]

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    second = out.strip().splitlines()[-1]

    assert "exists already" in out
    assert second.startswith("ovt_")
    assert second != first


def test_python_dash_m_runs_the_cli(data_env):
    result = subprocess.run(
        [sys.executable, "-m", "openvisit", "db", "upgrade"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert (data_env / "openvisit.db").exists()


@pytest.fixture
def serve_env(data_env, monkeypatch):
    """Serve settings in the environment; restored afterwards, as `serve` overwrites them."""
    for name, value in {
        "HOST": "127.0.0.1",
        "PORT": "8123",
        "WORKERS": "2",
        "THREADS": "5",
    }.items():
        monkeypatch.setenv(f"OPENVISIT_{name}", value)
    monkeypatch.setenv("OPENVISIT_SECRET_KEY", TEST_SECRET)
    calls: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    return calls


def test_serve_options_reach_the_worker_processes_through_the_environment(
    serve_env, capsys, monkeypatch
):
    supervised: list[tuple[workers.WorkerOptions, int]] = []

    def serve(options: workers.WorkerOptions, count: int) -> int:
        supervised.append((options, count))
        return 0

    monkeypatch.setattr(workers, "serve", serve)
    monkeypatch.setenv("OPENVISIT_REDIS_URL", SHARED_REDIS_URL)

    assert main(["serve", "--workers", "3", "--threads", "2"]) == 0

    expected = workers.WorkerOptions("127.0.0.1", 8123, websocket=WEBSOCKET_OPTIONS)
    assert supervised == [(expected, 3)]
    assert serve_env == []  # not uvicorn's own supervisor: each worker binds its socket
    # A worker builds its Settings from this environment.
    assert (Settings().workers, Settings().threads, Settings().port) == (3, 2, 8123)
    assert "(3 workers, 2 threads each)" in capsys.readouterr().out


def test_serve_with_one_worker_tunes_this_process_as_a_worker_is(serve_env, monkeypatch):
    limited: list[bool] = []

    def limit_arenas() -> bool:
        limited.append(True)
        return True

    monkeypatch.setattr(malloc_arenas, "limit_arenas", limit_arenas)
    thresholds: list[tuple[int, int, int]] = []

    def run(_app: object, **_options: object) -> None:
        thresholds.append(gc.get_threshold())

    monkeypatch.setattr(uvicorn, "run", run)
    before = gc.get_threshold()
    try:
        assert main(["serve", "--workers", "1"]) == 0
    finally:
        gc.set_threshold(*before)  # the test process keeps CPython's collector
    assert limited == [True]
    assert thresholds == [(gc_tuning.YOUNG_THRESHOLD, before[1], before[2])]


@pytest.mark.parametrize("ending", ["returns 3", "usage error"])
def test_the_command_freezes_its_heap_before_the_interpreter_exits(ending, monkeypatch):
    # Frozen objects are skipped by the collections the interpreter makes on its way
    # out (0.5 s of every command); a usage error leaves through SystemExit, and too.
    froze: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: froze.append(True))
    monkeypatch.setattr(sys, "argv", ["openvisit", "--no-such-option"])
    if ending == "returns 3":
        monkeypatch.setattr(cli, "main", lambda: 3)

    with pytest.raises(SystemExit) as exited:
        cli.run()

    assert exited.value.code == (3 if ending == "returns 3" else 2)
    assert froze == [True]


def test_serve_with_one_worker_runs_the_app_in_this_process(serve_env):
    assert main(["serve", "--workers", "1", "--port", "8124"]) == 0

    [(app, options)] = serve_env
    assert isinstance(app, FastAPI)
    assert "workers" not in options
    assert options["port"] == 8124
    assert options.items() >= WEBSOCKET_OPTIONS.items()


def test_serve_demo_prints_the_port_it_serves_on(serve_env, capsys, monkeypatch):
    monkeypatch.delenv("OPENVISIT_BASE_URL", raising=False)

    assert main(["serve", "--demo", "--workers", "1", "--port", "8125"]) == 0

    out = capsys.readouterr().out
    assert "API:             http://127.0.0.1:8125/v1.0/solutions/bookingBusinesses/" in out
    assert "API reference:   http://127.0.0.1:8125/docs" in out
    # The default transports keep messages in the outbox, so the demo points to it.
    assert "Outbox:          http://127.0.0.1:8125/dev/outbox" in out
    assert ":8123" not in out  # OPENVISIT_PORT, which --port overrides


@pytest.mark.parametrize("option", ["--workers", "--threads"])
def test_serve_refuses_zero_workers_or_threads(serve_env, capsys, option):
    assert main(["serve", option, "0"]) == 2

    assert "greater than or equal to 1" in capsys.readouterr().err
    assert serve_env == []


def _no_supervisor(*_args: object) -> int:
    pytest.fail("the workers started")


def test_serve_refuses_several_workers_when_events_cannot_cross_processes(
    serve_env, data_env, capsys, monkeypatch
):
    monkeypatch.setattr(workers, "serve", _no_supervisor)

    assert main(["serve", "--workers", "2"]) == 2

    assert capsys.readouterr().err == (
        "openvisit: `openvisit serve` with 2 workers needs an event bus that crosses "
        "processes: the consumer and the provider of one visit may be served by different "
        "workers, and the in-process bus cannot carry the lobby, signaling and chat between "
        "them. Set OPENVISIT_REDIS_URL=redis://host:6379/0, or use PostgreSQL "
        "(OPENVISIT_DATABASE_URL=postgresql://...), with OPENVISIT_EVENT_BUS unset or auto; "
        "or run one worker (--workers 1).\n"
    )
    assert serve_env == []
    assert not (data_env / "openvisit.db").exists()  # refused before migrating


def test_serve_refuses_the_in_process_bus_with_several_workers_even_beside_redis(
    serve_env, capsys, monkeypatch
):
    monkeypatch.setattr(workers, "serve", _no_supervisor)
    monkeypatch.setenv("OPENVISIT_REDIS_URL", SHARED_REDIS_URL)
    monkeypatch.setenv("OPENVISIT_EVENT_BUS", "inprocess")

    assert main(["serve"]) == 2  # OPENVISIT_WORKERS=2

    assert "with 2 workers needs an event bus that crosses processes" in capsys.readouterr().err


def test_serve_with_several_workers_on_postgresql_carries_events_by_listen_notify(
    serve_env, monkeypatch, postgres_database
):
    supervised: list[int] = []

    def serve(_options: workers.WorkerOptions, count: int) -> int:
        supervised.append(count)
        return 0

    monkeypatch.setattr(workers, "serve", serve)
    monkeypatch.setenv("OPENVISIT_DATABASE_URL", postgres_database.url)

    assert main(["serve", "--workers", "2"]) == 0

    assert supervised == [2]
    assert Settings().resolved_event_bus == "postgres"


def test_serve_with_one_worker_needs_no_bus_across_processes(serve_env):
    assert main(["serve", "--workers", "1"]) == 0

    [(app, _options)] = serve_env
    assert app.state.runtime.events.name == "inprocess"


@pytest.mark.parametrize("workers_option", ["1", "2"])
def test_serve_stops_at_once_when_the_redis_for_events_is_down(
    serve_env, capsys, monkeypatch, workers_option
):
    monkeypatch.setattr(workers, "serve", _no_supervisor)
    url = f"redis://:pw@127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("OPENVISIT_REDIS_URL", url)

    assert main(["serve", "--workers", workers_option]) == 2

    error = capsys.readouterr().err.splitlines(keepends=True)[-1]  # after the migration's log
    assert error.startswith(f"openvisit: Cannot reach Redis at {url.replace(':pw@', ':***@')} ")
    assert error.endswith("Start Redis, or fix or unset OPENVISIT_REDIS_URL.\n")
    assert serve_env == []


def test_serve_refuses_the_postgres_bus_on_sqlite(serve_env, capsys, monkeypatch):
    monkeypatch.setenv("OPENVISIT_EVENT_BUS", "postgres")

    assert main(["serve", "--workers", "1"]) == 2

    assert "OPENVISIT_EVENT_BUS=postgres needs a PostgreSQL database" in capsys.readouterr().err


def _wait_for_two_workers(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVE_WAIT_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        started = log.read_text(errors="replace").count("Application startup complete")
        if started >= 2:
            return
        time.sleep(0.1)
    pytest.fail(f"two workers did not start within {SERVE_WAIT_SECONDS} s:\n{log.read_text()}")


def test_serve_with_two_workers_runs_two_worker_processes(data_env):
    port = free_port()
    log = data_env / "serve.log"
    env = {
        **os.environ,
        "OPENVISIT_SECRET_KEY": TEST_SECRET,
        "OPENVISIT_REDIS_URL": SHARED_REDIS_URL,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "openvisit", "serve", "--workers", "2", "--port", str(port)],
            env=env,
            cwd=data_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: the finally can end every worker
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_two_workers(process, log)
        answer = httpx.get(f"{base}/healthz", timeout=5)
        workers = worker_pids(process.pid)
        logged = {
            int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", log.read_text())
        }

        assert answer.status_code == 200
        assert len(workers) == 2
        assert workers == logged
        assert "(2 workers, 8 threads each)" in log.read_text()
        process.terminate()
        assert process.wait(timeout=SERVE_WAIT_SECONDS) == 0
    finally:
        stop_server_group(process, wait_seconds=10)


def _thread_limit(client: TestClient) -> float:
    assert client.portal is not None
    return client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)


def test_the_threads_setting_sizes_the_running_apps_thread_pool(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, threads=3))

    with TestClient(app) as client:
        assert _thread_limit(client) == 3


def test_an_app_given_only_a_runtime_keeps_anyios_thread_pool(tmp_path):
    # The control: the limit above is the setting, not what anyio starts every loop with.
    database = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    app = create_app(runtime=build_test_runtime(database, FixedClock(TEST_NOW)))

    with TestClient(app) as client:
        assert _thread_limit(client) == 40  # anyio's default
