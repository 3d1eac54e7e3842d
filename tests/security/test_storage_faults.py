"""Storage faults answer 503 with Retry-After, /readyz follows them, and the server
recovers by itself with nothing lost (issue 7, item 13).

Real faults, no mocks: a small tmpfs filled until SQLite reports the disk full, a bind
mount remounted read-only, and PostgreSQL backends terminated with pg_terminate_backend
(before a request, and while one waits on a row lock).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from openvisit.auth.tokens import create_token
from openvisit.store.db import Database
from tests.conftest import ALL_SCOPES, build_test_runtime
from tests.databases import POSTGRES_ADMIN_URL, requested_backends
from tests.factories import BUSINESSES


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk))
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, timeout=30)


def _client_on(path: Path, sqlite_template, _shared_app, clock) -> tuple[TestClient, Database]:
    shutil.copyfile(sqlite_template.template, path)
    database = Database(f"sqlite:///{path}")
    _shared_app.state.runtime = build_test_runtime(database, clock)
    return TestClient(_shared_app), database


def _customers(client, auth_headers, business) -> list[str]:
    url = f"{BUSINESSES}/{business}/customers?$top=1000"
    response = client.get(url, headers=auth_headers)
    assert response.status_code == 200, response.text
    return sorted(item["displayName"] for item in response.json()["value"])


def _assert_unavailable(response, words: str) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "serviceNotAvailable"
    assert words in error["message"]
    assert int(response.headers["Retry-After"]) >= 1


def _token(client_runtime) -> dict[str, str]:
    _info, secret = create_token(
        client_runtime.db, client_runtime.clock, name="t", scopes=ALL_SCOPES
    )
    return {"Authorization": f"Bearer {secret}"}


def test_a_full_disk_refuses_writes_with_503_and_recovers(
    small_disk, sqlite_template, _shared_app, clock
):
    client, database = _client_on(small_disk / "openvisit.db", sqlite_template, _shared_app, clock)
    try:
        auth = _token(_shared_app.state.runtime)
        business = client.post(BUSINESSES, json={"displayName": "Full Disk"}, headers=auth)
        assert business.status_code == 201, business.text
        customers = f"{BUSINESSES}/{business.json()['id']}/customers"
        filler = small_disk / "filler"
        with filler.open("wb") as handle:  # take every free byte
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass
        stored, refused = [], None
        for number in range(400):
            name = f"Customer {number:03}"
            response = client.post(
                customers, json={"displayName": name, "notes": "x" * 2000}, headers=auth
            )
            if response.status_code != 201:
                refused = response
                break
            stored.append(name)
        assert refused is not None, "the disk never filled"
        _assert_unavailable(refused, "storage is full")
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.text
        # Reads still work, and the refused write left nothing behind.
        assert _customers(client, auth, business.json()["id"]) == stored

        filler.unlink()  # space returns

        assert client.get("/readyz").status_code == 200
        again = client.post(customers, json={"displayName": "After"}, headers=auth)
        assert again.status_code == 201, again.text
        assert _customers(client, auth, business.json()["id"]) == sorted([*stored, "After"])
    finally:
        database.dispose()


def test_a_read_only_database_refuses_with_503_and_recovers(
    tmp_path, sqlite_template, _shared_app, clock
):
    source, view = tmp_path / "source", tmp_path / "view"
    source.mkdir()
    view.mkdir()
    _mount("--bind", str(source), str(view))
    try:
        client, database = _client_on(view / "openvisit.db", sqlite_template, _shared_app, clock)
        auth = _token(_shared_app.state.runtime)
        created = client.post(BUSINESSES, json={"displayName": "Read Only"}, headers=auth)
        assert created.status_code == 201, created.text
        business = created.json()["id"]
        database.dispose()  # a mount goes read-only only with no file open for writing
        _mount("-o", "remount,ro,bind", str(view))

        refused = client.post(
            f"{BUSINESSES}/{business}/customers", json={"displayName": "X"}, headers=auth
        )
        _assert_unavailable(refused, "nothing was saved")
        assert client.get("/readyz").status_code == 503

        _mount("-o", "remount,rw,bind", str(view))

        assert client.get("/readyz").status_code == 200
        again = client.post(
            f"{BUSINESSES}/{business}/customers", json={"displayName": "Y"}, headers=auth
        )
        assert again.status_code == 201, again.text
        assert _customers(client, auth, business) == ["Y"]
        database.dispose()
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False, timeout=30)


POSTGRES = [name for name in requested_backends() if name == "postgresql"]


_TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = %s AND pid <> pg_backend_pid() AND (NOT %s OR wait_event_type = 'Lock')"
)


def _terminate(admin_url: str, database_name: str, *, waiting: bool) -> int:
    """Terminate the server's backends (only one waiting on a lock, if `waiting`)."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        return len(connection.execute(_TERMINATE, (database_name, waiting)).fetchall())


@pytest.mark.parametrize("backend", POSTGRES)
def test_a_killed_postgres_connection_answers_503_and_the_pool_recovers(
    backend, request, _shared_app, clock
):
    source = request.getfixturevalue("postgres_database")
    admin_url = source.url.replace("postgresql+psycopg://", "postgresql://", 1)
    with source.database() as database:
        runtime = build_test_runtime(database, clock)
        _shared_app.state.runtime = runtime
        client = TestClient(_shared_app)
        auth = _token(runtime)
        created = client.post(BUSINESSES, json={"displayName": "Killed"}, headers=auth)
        assert created.status_code == 201, created.text
        url = f"{BUSINESSES}/{created.json()['id']}"

        # Between requests: every pooled connection dies; the next request still works.
        assert _terminate(admin_url, source.name, waiting=False) >= 1
        assert client.get(url, headers=auth).status_code == 200

        # Mid-request: the PATCH waits on a row lock held elsewhere, and its backend dies.
        with psycopg.connect(admin_url) as holder:
            holder.execute("SELECT 1 FROM businesses FOR UPDATE").fetchall()

            def kill_the_waiter() -> None:
                for _ in range(200):
                    if _terminate(admin_url, source.name, waiting=True):
                        return
                    time.sleep(0.02)

            killer = threading.Thread(target=kill_the_waiter)
            killer.start()
            response = client.patch(url, json={"displayName": "Renamed"}, headers=auth)
            killer.join()
            holder.rollback()
        _assert_unavailable(response, "connection to the database was lost")

        assert client.get(url, headers=auth).json()["displayName"] == "Killed"
        renamed = client.patch(url, json={"displayName": "Renamed"}, headers=auth)
        assert renamed.status_code == 204, renamed.text


@pytest.mark.parametrize("backend", POSTGRES)
def test_a_read_only_postgres_database_answers_503_and_recovers(
    backend, request, _shared_app, clock
):
    source = request.getfixturevalue("postgres_database")
    admin_url = source.url.replace("postgresql+psycopg://", "postgresql://", 1)

    def read_only(value: str) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(
                f'ALTER DATABASE "{source.name}" SET default_transaction_read_only = {value}'
            )

    with source.database() as database:
        runtime = build_test_runtime(database, clock)
        _shared_app.state.runtime = runtime
        client = TestClient(_shared_app)
        auth = _token(runtime)
        read_only("on")
        try:
            _terminate(admin_url, source.name, waiting=False)  # sessions take it up anew
            refused = client.post(BUSINESSES, json={"displayName": "Standby"}, headers=auth)
            _assert_unavailable(refused, "read-only")
            assert client.get("/readyz").status_code == 503
        finally:
            read_only("off")

        assert client.get("/readyz").status_code == 200
        created = client.post(BUSINESSES, json={"displayName": "Primary"}, headers=auth)
        assert created.status_code == 201, created.text
