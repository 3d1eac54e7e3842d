"""Password hashing runs on its own bounded pool: when it is full, sign-ins are refused at
once (503 with Retry-After) instead of queueing without bound on the request threads."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from openvisit.app import create_app
from openvisit.auth.hashing import HASHING_NICENESS, HashingBusy, PasswordHashing
from tests.web.test_sign_in import EMAIL, PASSWORD, csrf_from, make_admin, submit_login


@pytest.fixture
def pool() -> Iterator[PasswordHashing]:
    hashing = PasswordHashing(threads=1, queue=1)
    yield hashing
    hashing.shutdown()


def occupy(pool: PasswordHashing, count: int) -> tuple[threading.Event, list[threading.Thread]]:
    """Fill `count` places of the pool with work that waits for the returned event."""
    release = threading.Event()
    started = []
    for _ in range(count):
        thread = threading.Thread(target=asyncio.run, args=(pool.run(release.wait, 10),))
        thread.start()
        started.append(thread)
    for _ in range(100):
        if pool.pending == count:
            break
        threading.Event().wait(0.01)
    assert pool.pending == count
    return release, started


def test_pool_refuses_work_past_threads_plus_queue(pool):
    release, threads = occupy(pool, 2)
    try:
        with pytest.raises(HashingBusy) as refused:
            asyncio.run(pool.run(len, "x"))
        assert refused.value.status == 503
        assert refused.value.retry_after_seconds == 1
    finally:
        release.set()
        for thread in threads:
            thread.join(10)

    assert asyncio.run(pool.run(len, "abc")) == 3
    assert pool.pending == 0


def test_a_full_hashing_pool_answers_503_with_retry_after(app, runtime, pool):
    app.state.runtime = dataclasses.replace(runtime, password_hashing=pool)
    make_admin(runtime)
    browser = TestClient(app, follow_redirects=False)
    release, threads = occupy(pool, 2)
    try:
        busy = submit_login(browser)
    finally:
        release.set()
        for thread in threads:
            thread.join(10)

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert "busy checking other sign-ins" in busy.text
    assert submit_login(browser).status_code == 303


def test_a_cancelled_caller_keeps_its_place_until_the_hash_ends(pool):
    release = threading.Event()

    async def start_and_cancel() -> None:
        task = asyncio.ensure_future(pool.run(release.wait, 10))
        await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(start_and_cancel())
    # The work still runs, so it still counts against the bound.
    assert pool.pending == 1
    release.set()
    for _ in range(100):
        if pool.pending == 0:
            break
        threading.Event().wait(0.01)
    assert pool.pending == 0


def test_hashing_threads_yield_the_cpu_to_request_threads(pool):
    def own_niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    process_niceness = os.getpriority(os.PRIO_PROCESS, 0)

    assert asyncio.run(pool.run(own_niceness)) == min(19, process_niceness + HASHING_NICENESS)
    assert own_niceness() == process_niceness


def test_a_sign_in_waiting_for_its_hash_holds_no_request_thread(runtime, pool, make_token):
    make_admin(runtime)
    headers = {"Authorization": f"Bearer {make_token()}"}
    # One request thread in all: a sign-in holding it would block the read below.
    app = create_app(runtime=dataclasses.replace(runtime, password_hashing=pool), threads=1)
    release, occupiers = occupy(pool, 1)  # the one hashing thread is busy; one may queue
    safety = threading.Timer(10, release.set)  # if the read blocks, the test fails, not hangs
    safety.start()
    answers: dict[str, int] = {}
    try:
        with TestClient(app, follow_redirects=False) as browser:
            form = {
                "email": EMAIL,
                "password": PASSWORD,
                "csrf_token": csrf_from(browser.get("/login")),
            }

            def sign_in() -> None:
                answers["login"] = browser.post("/login", data=form).status_code

            signing_in = threading.Thread(target=sign_in)
            signing_in.start()
            for _ in range(500):
                if pool.pending == 2:
                    break
                threading.Event().wait(0.01)
            assert pool.pending == 2  # the sign-in is waiting for its hash

            began = time.monotonic()
            read = browser.get("/v1.0/solutions/bookingBusinesses", headers=headers)
            waited = time.monotonic() - began

            release.set()
            signing_in.join(10)
    finally:
        release.set()
        safety.cancel()
        for thread in occupiers:
            thread.join(10)

    assert read.status_code == 200
    assert waited < 5
    assert answers["login"] == 303
