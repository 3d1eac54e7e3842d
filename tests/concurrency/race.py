"""Race harness: fire one booking request many times at once at the real server.

- `fire` sends REQUESTS identical POSTs concurrently (one connection each) and tallies the
  answers.
- `CheckGate` holds the race window open: it wraps the availability read inside the
  booking's write transaction so the first two transactions to check wait, briefly, for
  each other before either writes. Without the guard that is a race by construction;
  with it the second check cannot happen while the first transaction is open, so the
  gate just times out.
- `guard_disabled` is the test-only switch (`openvisit.store.locking.guard`) turned off
  for one block and always turned back on.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit.bookings.appointments import ACTIVE
from openvisit.store.db import Database
from openvisit.store.locking import guard, in_write_transaction
from openvisit.store.models import Appointment, StaffHold

REQUESTS = 50
TIMEOUT_SECONDS = 30
# How long the first availability check waits for a second one. With the guard on, none
# can come while the first transaction is open, so this is paid once per guarded burst.
GATE_PATIENCE_SECONDS = 0.5


@dataclass(frozen=True)
class Burst:
    statuses: Counter[int]
    codes: Counter[str]  # Graph error codes of the failed requests

    def __str__(self) -> str:
        return f"statuses {dict(self.statuses)}, error codes {dict(self.codes)}"


def fire(base_url: str, path: str, body: dict[str, Any], token: str) -> Burst:
    """POST `body` to `path` REQUESTS times concurrently and wait for every answer."""

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_SECONDS,
            limits=httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=0),
        ) as client:
            return await asyncio.gather(*(client.post(path, json=body) for _ in range(REQUESTS)))

    responses = asyncio.run(burst())
    return Burst(
        statuses=Counter(response.status_code for response in responses),
        codes=Counter(
            response.json()["error"]["code"] for response in responses if response.is_error
        ),
    )


class CheckGate:
    """Wraps `staff_bookings`: the first check waits for a second one before writing.

    The first transaction to read the staff's bookings waits up to `patience` seconds for
    another transaction to read them too, then goes on regardless, so the gate never fails
    a request. `met` tells whether that second read came while the first transaction was
    still waiting, i.e. whether two checks were open at once. After the first wait the gate
    stays open and every later check passes straight through.
    """

    def __init__(self, read: Callable[..., Any], *, patience: float = GATE_PATIENCE_SECONDS):
        self._read = read
        self._patience = patience
        self._lock = threading.Lock()
        self._waiting = False
        self._closed = False
        self._second = threading.Event()

    @property
    def met(self) -> bool:
        return self._second.is_set()

    def __call__(self, session: Session, *args: Any, **kwargs: Any) -> Any:
        result = self._read(session, *args, **kwargs)
        if not in_write_transaction(session):
            # SQLite drafts a booking in a plain read before it takes the write lock;
            # only the check made inside the write transaction decides.
            return result
        # The deciding check has read; nothing is written yet.
        with self._lock:
            if self._closed:
                return result
            if self._waiting:
                self._second.set()
                return result
            self._waiting = True
        self._second.wait(self._patience)
        with self._lock:
            self._closed = True
        return result


def run_together(*works: Callable[[], object]) -> None:
    """Run each in a thread of its own, all at once; re-raise the first one's failure."""
    errors: list[BaseException] = []

    def run(work: Callable[[], object]) -> None:
        try:
            work()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT_SECONDS)
    if errors:
        raise errors[0]


@contextmanager
def guard_disabled() -> Iterator[None]:
    guard.enabled = False
    try:
        yield
    finally:
        guard.enabled = True


def seats_taken(db: Database, start: datetime) -> dict[str, int]:
    """Seats of active appointments starting at `start`, per staff member."""
    with db.read() as session:
        rows = session.execute(
            select(StaffHold.staff_id, Appointment.seats)
            .join(Appointment, Appointment.id == StaffHold.appointment_id)
            .where(Appointment.start_date_time == start, Appointment.status == ACTIVE)
        ).all()
    taken: Counter[str] = Counter()
    for staff_id, seats in rows:
        taken[staff_id] += seats
    return dict(taken)
