"""Booking writes past the per-worker bound are answered 503 with Retry-After at once."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from fastapi.testclient import TestClient

from openvisit.graph.admission import AdmissionLimiter, is_booking_write
from tests.factories import BUSINESSES

BUSINESS = f"{BUSINESSES}/clinic@openvisit.local"
WRITES = [
    ("POST", f"{BUSINESS}/appointments"),
    ("PATCH", f"{BUSINESS}/appointments/abc"),
    ("POST", f"{BUSINESS}/appointments/abc/cancel"),
    ("POST", "/beta/bookingbusinesses/clinic@openvisit.local/Appointments"),
]


def test_booking_writes_get_503_with_retry_after_while_every_place_is_taken(
    app: FastAPI, client: TestClient, auth: dict[str, str]
) -> None:
    limiter: AdmissionLimiter = app.state.admission
    queue, limiter.queue = limiter.queue, 0
    held = 0
    while limiter.try_acquire():  # as many booking requests as the worker runs at once
        held += 1
    try:
        refused = [client.request(method, path, headers=auth, json={}) for method, path in WRITES]
        read = client.get(f"{BUSINESS}/appointments", headers=auth)
    finally:
        for _ in range(held):
            limiter.release()
        limiter.queue = queue
    after = client.post(f"{BUSINESS}/appointments", headers=auth, json={})

    for answer in refused:
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        error = answer.json()["error"]
        assert error["code"] == "serviceNotAvailable"
        assert error["innerError"]["request-id"]
    assert read.status_code != 503  # reads are not limited
    assert after.status_code != 503  # places free again: the request reaches the API
    assert limiter.active == 0


def test_requests_wait_in_line_up_to_the_bound_then_are_refused() -> None:
    async def scenario() -> None:
        limiter = AdmissionLimiter(concurrency=1, queue=2)
        assert await limiter.acquire()
        first = asyncio.create_task(limiter.acquire())
        second = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        assert limiter.waiting == 2
        assert await limiter.acquire() is False  # the line is full: refused at once

        second.cancel()  # a client that went away leaves the line
        await asyncio.sleep(0)
        limiter.release()
        assert await first is True  # first in line gets the place
        assert limiter.active == 1
        assert limiter.waiting == 0
        limiter.release()
        assert limiter.active == 0

    asyncio.run(scenario())


def test_only_booking_writes_are_limited() -> None:
    assert all(is_booking_write(method, path) for method, path in WRITES[:3])
    assert not is_booking_write("GET", f"{BUSINESS}/appointments")
    assert not is_booking_write("DELETE", f"{BUSINESS}/appointments/abc")
    assert not is_booking_write("POST", f"{BUSINESS}/customers")
    assert not is_booking_write("PATCH", f"{BUSINESS}")
