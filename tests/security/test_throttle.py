"""Sign-in throttling: failures slow an account and an address down, then lock them for a
while (429 with Retry-After and a page saying when), and the lock ends by the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openvisit.auth.throttle import ACCOUNT_POLICY, ADDRESS_POLICY, ThrottlePolicy
from openvisit.clock import FixedClock
from openvisit.store.models import AuditRecord, SignInThrottle
from tests.conftest import build_test_runtime
from tests.web.test_sign_in import EMAIL, PASSWORD, make_admin, submit_login

WRONG = "not the password"


def browser_from(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 40000))


@pytest.fixture
def browser(app: FastAPI) -> TestClient:
    return browser_from(app, "198.51.100.1")


def fail_until_locked(browser: TestClient, clock: FixedClock, policy: ThrottlePolicy) -> None:
    """Post wrong passwords, waiting out each slow-down, until the lock starts."""
    for failures in range(1, policy.lock_after + 1):
        assert submit_login(browser, password=WRONG).status_code == 401
        if failures < policy.lock_after:
            clock.advance(timedelta(seconds=policy.wait_seconds(failures)))


def test_the_policy_slows_down_then_locks():
    waits = [ACCOUNT_POLICY.wait_seconds(failures) for failures in range(1, 11)]

    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 32, 900]
    assert ADDRESS_POLICY.wait_seconds(ADDRESS_POLICY.free_failures) == 0
    assert ADDRESS_POLICY.wait_seconds(ADDRESS_POLICY.lock_after) == 900


def test_repeated_failures_slow_an_account_down(browser, runtime, clock):
    make_admin(runtime)
    for _ in range(ACCOUNT_POLICY.free_failures + 1):
        assert submit_login(browser, password=WRONG).status_code == 401

    too_soon = submit_login(browser)

    assert too_soon.status_code == 429
    assert too_soon.headers["retry-after"] == "1"
    assert "Too many failed sign-ins. Try again after 14:00:01 UTC (in 1 second)." in (
        too_soon.text
    )
    assert 'name="password"' in too_soon.text  # the form again, to retry from
    clock.advance(timedelta(seconds=1))
    assert submit_login(browser).status_code == 303


def test_an_account_is_locked_then_unlocked_by_the_clock(browser, runtime, clock):
    make_admin(runtime)
    fail_until_locked(browser, clock, ACCOUNT_POLICY)

    locked = submit_login(browser)  # even the right password waits out the lock

    assert locked.status_code == 429
    assert locked.headers["retry-after"] == str(ACCOUNT_POLICY.lock_seconds)
    assert "(in 15 minutes)" in locked.text
    # Another address gets the same answer: the lock is on the account.
    elsewhere = browser_from(browser.app, "192.0.2.99")
    assert submit_login(elsewhere).status_code == 429
    clock.advance(timedelta(seconds=ACCOUNT_POLICY.lock_seconds - 1))
    assert submit_login(browser).headers["retry-after"] == "1"

    clock.advance(timedelta(seconds=1))

    assert submit_login(browser).status_code == 303


def test_the_lock_is_audited_once(browser, runtime, clock):
    make_admin(runtime)
    fail_until_locked(browser, clock, ACCOUNT_POLICY)
    for _ in range(3):
        assert submit_login(browser).status_code == 429

    with runtime.db.read() as session:
        actions = list(
            session.scalars(
                select(AuditRecord.action).where(AuditRecord.action.like("openvisit.session.%"))
            )
        )

    assert actions.count("openvisit.session.sign_in_failed") == ACCOUNT_POLICY.lock_after
    assert actions.count("openvisit.session.sign_in_locked") == 1


def test_a_successful_sign_in_forgets_the_account_failures(browser, runtime, clock):
    make_admin(runtime)
    for _ in range(ACCOUNT_POLICY.free_failures):
        assert submit_login(browser, password=WRONG).status_code == 401
    assert submit_login(browser).status_code == 303

    fresh = browser_from(browser.app, "198.51.100.1")
    for _ in range(ACCOUNT_POLICY.free_failures):
        assert submit_login(fresh, password=WRONG).status_code == 401
    assert submit_login(fresh).status_code == 303


def test_one_address_spraying_many_accounts_is_slowed(app, runtime, clock):
    make_admin(runtime)
    sprayer = browser_from(app, "203.0.113.66")
    for number in range(ADDRESS_POLICY.free_failures + 1):
        response = submit_login(sprayer, email=f"guess{number}@example.test", password=WRONG)
        assert response.status_code == 401

    refused = submit_login(sprayer)  # the right password, from the slowed address

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    # Other addresses, and the same account from them, are not affected.
    assert submit_login(browser_from(app, "203.0.113.67")).status_code == 303


def test_ipv6_clients_are_counted_by_their_64_prefix(app, runtime, clock):
    make_admin(runtime)
    for number in range(ADDRESS_POLICY.free_failures + 1):
        hopper = browser_from(app, f"2001:db8:1:2::{number + 1:x}")
        response = submit_login(hopper, email=f"guess{number}@example.test", password=WRONG)
        assert response.status_code == 401

    assert submit_login(browser_from(app, "2001:db8:1:2::ffff")).status_code == 429
    assert submit_login(browser_from(app, "2001:db8:1:3::1")).status_code == 303


def test_every_worker_sees_the_same_lock(browser, runtime, clock, _shared_app):
    make_admin(runtime)
    fail_until_locked(browser, clock, ACCOUNT_POLICY)
    # A second server process on the same database: its own runtime and app.
    from openvisit.app import create_app  # noqa: PLC0415 - built only here

    other_worker = create_app(runtime=build_test_runtime(runtime.db, clock))

    assert submit_login(browser_from(other_worker, "192.0.2.1")).status_code == 429


def test_old_failures_are_forgotten_and_pruned(browser, runtime, clock):
    make_admin(runtime)
    for _ in range(ACCOUNT_POLICY.free_failures):
        assert submit_login(browser, password=WRONG).status_code == 401
    clock.advance(timedelta(seconds=ACCOUNT_POLICY.lock_seconds + 1))

    # The count starts over: three more failures are free again.
    elsewhere = browser_from(browser.app, "192.0.2.7")
    for _ in range(ACCOUNT_POLICY.free_failures):
        assert submit_login(elsewhere, password=WRONG).status_code == 401
    assert submit_login(elsewhere).status_code == 303

    with runtime.db.read() as session:
        keys = session.scalar(select(func.count()).select_from(SignInThrottle))
    # Left: the second address's counter. The account's was cleared by the success, and
    # the first address's, stale, was pruned by the next failure.
    assert keys == 1


def test_a_set_password_lifts_the_lock(browser, runtime, clock):
    from openvisit.auth.accounts import set_password  # noqa: PLC0415

    make_admin(runtime)
    fail_until_locked(browser, clock, ACCOUNT_POLICY)
    assert submit_login(browser).status_code == 429

    set_password(runtime.db, runtime.clock, EMAIL, PASSWORD, secret_key=runtime.secret_key)

    assert submit_login(browser_from(browser.app, "192.0.2.8")).status_code == 303


def test_lock_answer_keeps_the_security_headers(browser, runtime, clock):
    make_admin(runtime)
    fail_until_locked(browser, clock, ACCOUNT_POLICY)

    locked = submit_login(browser)

    assert locked.headers["content-security-policy"].startswith("default-src 'self'")
    assert locked.headers["cache-control"] == "no-store"
