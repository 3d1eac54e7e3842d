"""Fixtures of the media tests: a real coturn per test, aiortc on loopback."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.media.coturn import TurnServer, running_turnserver
from tests.media.peers import use_loopback_host_addresses


@pytest.fixture
def turn_server(tmp_path: Path) -> Iterator[TurnServer]:
    """Debian's turnserver on a free loopback port with a random shared secret."""
    with running_turnserver(tmp_path / "coturn", secrets.token_hex(24)) as server:
        yield server


@pytest.fixture
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    use_loopback_host_addresses(monkeypatch)
