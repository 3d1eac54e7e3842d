"""Shared fixtures: a fresh database per test on each requested backend, a fixed clock,
the app, an HTTP client, and API tokens with chosen scopes."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openvisit.app import create_app
from openvisit.auth.tokens import create_token
from openvisit.bookings.document_store import DocumentStore
from openvisit.clock import FixedClock
from openvisit.runtime import Runtime
from openvisit.store.db import Database
from tests.databases import PostgresDatabase, SqliteTemplate, requested_backends

TEST_NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
ALL_SCOPES = (
    "Bookings.Manage.All BookingsAppointment.ReadWrite.All Bookings.ReadWrite.All "
    "Bookings.Read.All OnlineMeetings.ReadWrite User.Read VirtualAppointmentNotification.Send "
    "OnlineMeetingArtifact.Read.All"
)

# Variables that steer the test run itself; every other OPENVISIT_* is a server setting.
TEST_RUN_VARIABLES = frozenset(
    {
        "OPENVISIT_TEST_BACKENDS",
        "OPENVISIT_TEST_POSTGRES_URL",
        "OPENVISIT_SKIP_CHECK",
        "OPENVISIT_TEST_SCREENSHOTS",  # where the browser tests keep their screenshots
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    fuzz = parser.getgroup("openvisit fuzz", "tests/graph/test_fuzz.py beyond its default budget")
    fuzz.addoption(
        "--fuzz-examples",
        type=int,
        metavar="N",
        help="cases per operation and generation mode (default 10); randomizes the input",
    )
    fuzz.addoption(
        "--fuzz-seconds",
        type=float,
        metavar="S",
        help="wall-clock cap per backend, 0 for none (default 25, or none with --fuzz-examples)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Drop the caller's OPENVISIT_* settings before any test (or server it starts) reads them.

    A developer's shell with OPENVISIT_PORT or OPENVISIT_BASE_URL set must not change what
    the suite asserts; subprocesses inherit this cleaned environment too.
    """
    for name in [key for key in os.environ if key.startswith("OPENVISIT_")]:
        if name not in TEST_RUN_VARIABLES:
            del os.environ[name]


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if (
        isinstance(host, str)
        and host not in ("127.0.0.1", "::1", "localhost")
        and not host.startswith("/")
    ):
        raise RuntimeError(f"tests may only reach loopback addresses, not {host!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    # typeshed declares connect on _socket.socket, hence the narrower `self` mismatch.
    socket.socket.connect = _loopback_only  # type: ignore[method-assign,assignment]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    database = PostgresDatabase()
    yield database
    database.drop()


@pytest.fixture(params=requested_backends())
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated, empty database; the test id names its backend."""
    if request.param == "sqlite":
        source: Any = request.getfixturevalue("sqlite_template")
    else:
        source = request.getfixturevalue("postgres_database")
    with source.database() as database:
        yield database


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_NOW)


# Where uploads go for runtimes built without a folder of their own: none of those tests
# uploads anything, and this one is only made when something is.
SCRATCH_UPLOADS = Path(tempfile.gettempdir()) / f"openvisit-test-uploads-{os.getpid()}"


def build_test_runtime(
    database: Database, clock: FixedClock, *, uploads: Path | None = None
) -> Runtime:
    return Runtime(
        db=database,
        clock=clock,
        base_url="http://testserver",
        business_id_domain="openvisit.test",
        page_size=100,
        secret_key=TEST_SECRET,
        session_max_age_seconds=3600,
        secure_cookies=False,
        documents=DocumentStore(uploads or SCRATCH_UPLOADS),
    )


@pytest.fixture
def runtime(database: Database, clock: FixedClock, tmp_path: Path) -> Runtime:
    return build_test_runtime(database, clock, uploads=tmp_path / "data" / "uploads")


@pytest.fixture(scope="session")
def _shared_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    # Building the app costs ~150 ms; the app reads its runtime from app.state on every
    # request, so one app serves every test with that test's runtime.
    placeholder = Database(f"sqlite:///{tmp_path_factory.mktemp('app') / 'unused.db'}")
    return create_app(runtime=build_test_runtime(placeholder, FixedClock(TEST_NOW)))


@pytest.fixture
def app(_shared_app: FastAPI, runtime: Runtime) -> FastAPI:
    _shared_app.state.runtime = runtime
    return _shared_app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # No lifespan: the database fixture owns the engine's life.
    yield TestClient(app)


TokenFactory = Callable[..., str]


@pytest.fixture
def make_token(runtime: Runtime) -> TokenFactory:
    """make_token("Bookings.Read.All", user="a@b.test") -> a bearer secret."""

    def make(scopes: str = ALL_SCOPES, *, user: str | None = None) -> str:
        _info, secret = create_token(
            runtime.db, runtime.clock, name="test", scopes=scopes, user_email=user
        )
        return secret

    return make


@pytest.fixture
def auth(make_token: TokenFactory) -> dict[str, str]:
    """Headers carrying a token with every scope."""
    return {"Authorization": f"Bearer {make_token()}"}


@pytest.fixture
def tmp_data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
