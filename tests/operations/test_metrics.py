"""GET /metrics: off by default, guarded by a token or an address list, and summed over
the workers of a real `openvisit serve --workers 2`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.mmap_dict import MmapedDict

from openvisit.app import create_app
from openvisit.config import Settings
from tests.conftest import TEST_SECRET
from tests.live import SHARED_REDIS_URL, free_port, stop_server_group, worker_pids
from tests.operations.env import hermetic_env

WAIT_SECONDS = 30
SERVE = (sys.executable, "-m", "openvisit", "serve")
METRICS_TOKEN = "scrape-" + "x1y2z3" * 6
BUSINESS_ROUTE = "/v1.0/solutions/bookingBusinesses/{business_id}"


@pytest.fixture
def no_settings_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("OPENVISIT_"):
            monkeypatch.delenv(name)


def _client(tmp_path, **settings) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path, secret_key=TEST_SECRET, **settings)))


def test_metrics_are_off_unless_a_token_or_address_list_is_set(tmp_path, no_settings_env):
    with _client(tmp_path) as client:
        assert client.get("/metrics").status_code == 404


def test_a_metrics_token_is_required_when_set(tmp_path, no_settings_env):
    with _client(tmp_path, metrics_token=METRICS_TOKEN) as client:
        missing = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert right.status_code == 200
    assert right.headers["content-type"].startswith("text/plain; version=")


def test_only_listed_addresses_may_read_the_metrics(tmp_path, no_settings_env):
    # TestClient's client address is "testclient", which is no listed address.
    with _client(tmp_path, metrics_addresses="127.0.0.1, ::1") as client:
        assert client.get("/metrics").status_code == 403


def test_a_bad_address_list_stops_the_start(tmp_path, no_settings_env):
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300' is not an IP address"):
        Settings(data_dir=tmp_path, metrics_addresses="127.0.0.1,10.0.0.300")


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        metric, _, value = line.rpartition(" ")
        if metric == f"{name}{{{wanted}}}" or (not labels and metric == name):
            return float(value)
    return 0.0


def _printed(pattern: str, printed: str) -> str:
    """The first group of `pattern` in the server's start-up output."""
    found = re.search(pattern, printed, re.MULTILINE)
    assert found is not None, printed
    return found.group(1)


def _business_reads_by_worker(folder: Path) -> dict[int, float]:
    """Per worker process: the business reads its own metrics file holds."""
    served = {}
    for file in folder.glob("counter_*.db"):
        pid = int(file.stem.removeprefix("counter_"))
        # prometheus_client leaves this reader unannotated.
        entries = MmapedDict.read_all_values_from_file(str(file))  # type: ignore[no-untyped-call]
        served[pid] = sum(
            value
            for key, value, _timestamp, _position in entries
            if BUSINESS_ROUTE in key and '"status": "200"' in key
        )
    return {pid: count for pid, count in served.items() if count}


def test_two_workers_serve_requests_and_metrics_sum_them(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    env = hermetic_env(
        tmp_path,
        metrics_token=METRICS_TOKEN,
        metrics_addresses="127.0.0.1",
        redis_url=SHARED_REDIS_URL,
    )
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*SERVE, "--demo", "--workers", "2", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while log.read_text(errors="replace").count("Application startup complete") < 2:
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        printed = log.read_text(errors="replace")
        api_token = _printed(r"^(ovt_\S+)$", printed)
        business = _printed(r"bookingBusinesses/(\S+@\S+)", printed)
        headers = {"Authorization": f"Bearer {api_token}"}
        # A new connection each: the kernel spreads them over both workers' sockets.
        statuses = [
            httpx.get(
                f"{base}/v1.0/solutions/bookingBusinesses/{business}?$select=displayName",
                headers=headers,
                timeout=5,
            ).status_code
            for _ in range(40)
        ]
        missing = httpx.get(
            f"{base}/v1.0/solutions/bookingBusinesses/nobody@openvisit.local",
            headers=headers,
            timeout=5,
        )
        unauthorized = httpx.get(f"{base}/metrics", timeout=5)
        scraped = httpx.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
        )
        served = _business_reads_by_worker(tmp_path / "metrics")
        workers = worker_pids(process.pid)

        assert statuses == [200] * 40
        assert missing.status_code == 404
        assert unauthorized.status_code == 401
        assert scraped.status_code == 200
        assert len(workers) == 2
        assert set(served) == workers  # both workers answered some of the requests
        assert all(count > 0 for count in served.values())
        text = scraped.text
        route = {"method": "GET", "route": BUSINESS_ROUTE}
        assert _sample(text, "openvisit_http_requests_total", **route, status="200") == 40
        assert _sample(text, "openvisit_http_requests_total", **route, status="404") == 1
        assert _sample(text, "openvisit_http_request_duration_seconds_count", **route) == 41
        assert (
            _sample(text, "openvisit_http_request_duration_seconds_bucket", **route, le="+Inf")
            == 41
        )
        assert "openvisit_db_connections_checked_out" in text
        assert "openvisit_bookings_made_total" in text
        # Labels name route templates only: no ids, no query strings.
        assert business not in text and "nobody@" not in text and "$select" not in text
        process.terminate()
        assert process.wait(timeout=WAIT_SECONDS) == 0
    finally:
        stop_server_group(process, wait_seconds=10)
