"""Items 8 and 11: unhandled errors, request ids and what reaches the log."""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openvisit import logs
from openvisit.app import create_app
from openvisit.clock import FixedClock
from openvisit.store.db import Database
from tests.conftest import TEST_NOW, TEST_SECRET, build_test_runtime
from tests.live import free_port, serve
from tests.security.cli import clean_environment

PERSON = "ann.patient@example.com"
TOKEN = "ovt_ThisIsASecretTokenValue123"
START_SECONDS = 30


class DiskFull(OSError):
    pass


def _app(tmp_path) -> FastAPI:
    database = Database(f"sqlite:///{tmp_path / 'app.db'}")
    app = create_app(runtime=build_test_runtime(database, FixedClock(TEST_NOW)))

    def boom() -> None:
        raise RuntimeError(f"lookup failed for {PERSON} with {TOKEN}")

    def full() -> None:
        raise DiskFull(28, "No space left on device")

    app.add_api_route("/boom", boom)
    app.add_api_route("/full", full)
    return app


@contextmanager
def captured_log(*names: str, limiter: logs.RepeatLimiter | None = None) -> Iterator[io.StringIO]:
    """Our JSON handler on the root logger (and `names`, which may not propagate)."""
    stream = io.StringIO()
    handler = logs.build_handler("json", stream, limiter)
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in names)]
    root_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.INFO)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield stream
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        logging.getLogger().setLevel(root_level)


def test_a_500_leaves_the_keep_alive_connection_usable(tmp_path):
    with captured_log("uvicorn") as log, serve(_app(tmp_path)) as base:
        connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
        try:
            connection.request("GET", "/boom")
            failed = connection.getresponse()
            body = json.loads(failed.read())
            assert connection.sock is not None
            local = connection.sock.getsockname()

            connection.request("GET", "/healthz")
            healthy = connection.getresponse()
            healthy.read()
            assert connection.sock is not None
            same_connection = connection.sock.getsockname() == local
        finally:
            connection.close()
        time.sleep(0.2)  # let the server's thread finish its log lines

    assert failed.status == 500
    assert body["error"]["code"] == "generalException"
    assert body["error"]["innerError"]["request-id"] == failed.getheader("request-id")
    assert healthy.status == 200
    assert same_connection
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    errors = [line for line in lines if line["level"] == "ERROR"]
    # One line, with its traceback and the failed request's id, nothing private in it.
    assert len(errors) == 1
    assert errors[0]["request_id"] == failed.getheader("request-id")
    assert "RuntimeError" in errors[0]["exception"]
    assert PERSON not in log.getvalue()
    assert TOKEN not in log.getvalue()
    assert "***@example.com" in errors[0]["exception"]


def test_every_response_carries_the_request_ids(tmp_path):
    client = TestClient(_app(tmp_path))

    plain = client.get("/healthz")
    correlated = client.get("/healthz", headers={"client-request-id": "caller-42"})
    missing = client.get("/v1.0/nowhere", headers={"client-request-id": "caller-43"})

    assert uuid.UUID(plain.headers["request-id"])
    assert plain.headers["client-request-id"] == plain.headers["request-id"]
    assert correlated.headers["client-request-id"] == "caller-42"
    assert correlated.headers["request-id"] != plain.headers["request-id"]
    inner = missing.json()["error"]["innerError"]
    assert inner["request-id"] == missing.headers["request-id"]
    assert inner["client-request-id"] == missing.headers["client-request-id"] == "caller-43"


class SteppedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_fault_on_every_request_writes_a_bounded_log(tmp_path):
    clock = SteppedClock()
    limiter = logs.RepeatLimiter(burst=5, interval=60, clock=clock)
    client = TestClient(_app(tmp_path))

    with captured_log(limiter=limiter) as log:
        statuses = {client.get("/full").status_code for _ in range(300)}
        first_minute = log.getvalue()
        clock.now = 61
        client.get("/full")

    entries = [json.loads(line) for line in first_minute.splitlines()]
    errors = [line for line in entries if line["level"] == "ERROR"]
    access = [line for line in entries if line["logger"] == "openvisit.access"]
    assert statuses == {500}
    assert first_minute.count("Traceback") == 5
    assert sum(len(json.dumps(line)) for line in errors) < 40_000  # unbounded: about 1.3 MB
    assert len(access) == 300  # one short line a request, each with its id
    assert "(295 more like this suppressed)" in log.getvalue()


@pytest.fixture
def served(tmp_path):
    """`openvisit serve` with JSON logs, its stderr in a file."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = clean_environment(
        data_dir=str(tmp_path / "data"), secret_key=TEST_SECRET, port=str(port), log_format="json"
    )
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "openvisit", "serve"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=output,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
        yield base, process, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=START_SECONDS)


def test_the_served_log_has_request_ids_and_no_private_data(served):
    base, process, log_path = served
    private = f"$filter=emailAddress eq '{PERSON}'&query=Ann Patient&access_token={TOKEN}&$top=5"
    answer = httpx.get(
        f"{base}/v1.0/solutions/bookingBusinesses?{private}",
        headers={"Authorization": f"Bearer {TOKEN}", "client-request-id": "caller-7"},
        timeout=10,
    )
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=START_SECONDS)
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines()]

    assert answer.status_code == 401
    assert answer.headers["client-request-id"] == "caller-7"
    assert all(
        {"time", "level", "logger", "request_id", "message"} <= line.keys() for line in lines
    )
    [access] = [line for line in lines if line["request_id"] == answer.headers["request-id"]]
    assert access["message"].startswith(
        "GET /v1.0/solutions/bookingBusinesses?$filter&query&access_token&$top 401 "
    )
    for secret in (PERSON, "ann.patient", TOKEN, "Ann Patient", "Ann%20Patient"):
        assert secret not in text
    assert "Application startup complete." in {line["message"] for line in lines}


def test_commands_print_no_migration_noise_and_the_version(tmp_path):
    env = clean_environment(data_dir=str(tmp_path / "data"), secret_key=TEST_SECRET)
    run = {"env": env, "cwd": tmp_path, "capture_output": True, "text": True, "timeout": 60}

    upgraded = subprocess.run(
        [sys.executable, "-m", "openvisit", "db", "upgrade"], check=False, **run
    )
    version = subprocess.run([sys.executable, "-m", "openvisit", "--version"], check=False, **run)

    assert upgraded.returncode == 0
    assert upgraded.stderr == ""
    assert upgraded.stdout == "database is at the latest revision\n"
    assert version.returncode == 0
    assert version.stdout.strip() == "openvisit 0.1.0"


def test_uvicorns_own_lines_lose_their_query_values():
    stream = io.StringIO()
    handler = logs.build_handler("text", stream)
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:50000", f"/lobby?query=Ann%20Patient&access_token={TOKEN}"),
        None,
    )

    handler.handle(record)

    assert stream.getvalue().rstrip().endswith('"WebSocket /lobby?query&access_token" [accepted]')
