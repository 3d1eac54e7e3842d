"""Bearer tokens: verified ones are remembered briefly, revoked ones stop working."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openvisit.auth import tokens
from openvisit.auth.tokens import (
    TOKEN_CACHE_SECONDS,
    authenticate_token,
    cached_principal,
    create_token,
    revoke_token,
)
from openvisit.clock import FixedClock
from openvisit.errors import Unauthenticated
from openvisit.runtime import Runtime
from openvisit.store.db import Database
from tests.databases import count_statements


def _token(runtime: Runtime, name: str = "client") -> tuple[str, str]:
    info, secret = create_token(runtime.db, runtime.clock, name=name, scopes="Bookings.Read.All")
    return info.id, secret


def test_a_recently_verified_token_costs_no_database_read(runtime: Runtime) -> None:
    _id, secret = _token(runtime)
    first = authenticate_token(runtime.db, runtime.clock, secret)

    with count_statements(runtime.db) as seen:
        again = authenticate_token(runtime.db, runtime.clock, secret)

    assert again == first
    assert seen == []


def test_the_verdict_is_read_again_once_the_window_passes(runtime: Runtime) -> None:
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    _id, secret = _token(runtime)
    authenticate_token(runtime.db, clock, secret)

    clock.advance(timedelta(seconds=TOKEN_CACHE_SECONDS))

    assert cached_principal(runtime.db, clock, secret) is None
    with count_statements(runtime.db) as seen:
        authenticate_token(runtime.db, clock, secret)
    assert seen


def test_revoking_in_this_process_takes_effect_at_once(runtime: Runtime) -> None:
    token_id, secret = _token(runtime)
    authenticate_token(runtime.db, runtime.clock, secret)

    revoke_token(runtime.db, runtime.clock, token_id)

    with pytest.raises(Unauthenticated):
        authenticate_token(runtime.db, runtime.clock, secret)


def test_a_token_revoked_elsewhere_stops_working_within_the_window(runtime: Runtime) -> None:
    """The CLI revokes through its own connection: the server notices within seconds."""
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    token_id, secret = _token(runtime)
    authenticate_token(runtime.db, clock, secret)

    elsewhere = Database(runtime.db.url)
    try:
        revoke_token(elsewhere, clock, token_id)
    finally:
        elsewhere.dispose()

    assert authenticate_token(runtime.db, clock, secret).token_id == token_id
    clock.advance(timedelta(seconds=TOKEN_CACHE_SECONDS))
    with pytest.raises(Unauthenticated):
        authenticate_token(runtime.db, clock, secret)


def test_unknown_tokens_are_never_remembered(runtime: Runtime) -> None:
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            authenticate_token(runtime.db, runtime.clock, "ovt_not-a-token")
    assert cached_principal(runtime.db, runtime.clock, "ovt_not-a-token") is None


def test_the_cache_stays_bounded(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "TOKEN_CACHE_ENTRIES", 2)
    secrets = [_token(runtime, f"client {n}")[1] for n in range(5)]

    principals = [authenticate_token(runtime.db, runtime.clock, secret) for secret in secrets]

    assert len({principal.token_id for principal in principals}) == 5
    remembered = [s for s in secrets if cached_principal(runtime.db, runtime.clock, s)]
    assert 1 <= len(remembered) <= 2
