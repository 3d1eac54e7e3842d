"""The dispatcher: claims due notification rows, sends each once, and logs what happened.

One pass (`run_once`) is `claim` then `deliver`:

1. A plain read asks whether anything is due, so an idle poll never takes SQLite's write
   lock (skipped right after a full batch, when more is likely waiting).
2. One write transaction claims up to `batch` due rows, oldest first: each becomes
   `sending` under this worker, one attempt more, leased until now + `lease`. Rows past
   their `expires_at` are dropped there instead of sent, and a row whose attempts are
   all used (its sends kept killing their worker) fails.
3. Each row's message is composed from the appointment as it stands now.
4. At most `concurrency` sends run at once, each within `send_timeout`, which is shorter
   than the lease: a send ends before another worker may take its row over. A row whose
   lease no longer leaves time for a whole send is released unsent, and so are rows not
   yet started when the dispatcher is asked to stop.
5. Each outcome is written only while this worker's claim still holds (the fence in
   store/notification_queries.py): sent; failed for now, back to pending after an
   exponential backoff (or the provider's Retry-After, if longer) until `max_attempts`;
   or failed for good. Outcomes that finish together share one transaction.

Why this sends each message once, and the one case where it cannot promise that:
docs/notifications.md.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread

from openvisit import telemetry
from openvisit.clock import Clock
from openvisit.notify import queue
from openvisit.notify.backoff import Backoff
from openvisit.notify.compose import ComposeSettings, compose
from openvisit.notify.messages import EmailMessage, Receipt, TextMessage
from openvisit.notify.transports.base import (
    DeliveryFailure,
    EmailTransport,
    PermanentFailure,
    SmsTransport,
    TransientFailure,
)
from openvisit.store import notification_queries as queries
from openvisit.store.db import Database
from openvisit.store.notification_queries import Due, Fence

logger = logging.getLogger(__name__)

Message = EmailMessage | TextMessage
# What one send came to: accepted, refused, or None when it was never tried (released).
Result = Receipt | DeliveryFailure | None
RECORD_TRIES = 5


def new_worker_id() -> str:
    """host:pid:random, unique per dispatcher and readable in the delivery log."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class Claim:
    """What one claim took: the rows to send, and how many rows it ended in all."""

    fences: tuple[Fence, ...]
    taken: int
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class _Prepared:
    fence: Fence
    channel: str
    kind: str
    message: Message | DeliveryFailure


@dataclass(frozen=True, slots=True)
class _Outcome:
    item: _Prepared
    result: Result


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        email_transport: EmailTransport,
        sms_transport: SmsTransport,
        compose_settings: ComposeSettings,
        *,
        worker_id: str | None = None,
        batch: int = 50,
        concurrency: int = 8,
        lease: timedelta = timedelta(minutes=5),
        send_timeout: timedelta = timedelta(minutes=1),
        max_attempts: int = 8,
        backoff: Backoff | None = None,
        poll_interval: float = 5.0,
    ) -> None:
        if send_timeout >= lease:
            raise ValueError("the send timeout must be shorter than the lease")
        if batch < 1 or concurrency < 1 or max_attempts < 1 or poll_interval <= 0:
            raise ValueError("batch, concurrency, attempts and poll interval must be positive")
        self._db = db
        self._clock = clock
        self._email = email_transport
        self._sms = sms_transport
        self._compose_settings = compose_settings
        self.worker_id = (worker_id or new_worker_id())[:64]
        self._batch = batch
        self._concurrency = concurrency
        self._lease = lease
        self._send_timeout = send_timeout
        self._max_attempts = max_attempts
        self._backoff = backoff or Backoff()
        self._poll_interval = poll_interval
        self._full = False  # the last claim filled its batch: skip the probe
        self._stopping = False
        self._wake: anyio.Event | None = None

    # --- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        """Send due notifications until `stop()`; a failing pass is logged and retried."""
        self._wake = anyio.Event()
        failures = 0
        while not self._stopping:
            try:
                taken = await self.run_once()
                failures = 0
            except Exception as error:  # the database is away: wait, then poll again
                failures += 1
                if failures == 1:
                    logger.exception("notification dispatch failed; retrying")
                else:
                    logger.warning("notification dispatch failed again: %s", error)
                taken = 0
            if self._stopping or taken >= self._batch:
                continue
            wait = min(self._poll_interval * 2 ** min(failures, 6), 60.0 + self._poll_interval)
            with anyio.move_on_after(wait):
                await self._wake.wait()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        """End `run` soon: sends in flight finish and are recorded, others are released.

        Call from the event loop's thread (a signal handler added to the loop will do).
        """
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    async def close(self) -> None:
        """Release the transports' connections."""
        # One object may be both (the outbox): close it once.
        transports = {id(item): item for item in (self._email, self._sms)}
        for transport in transports.values():
            await transport.close()

    # --- one pass -----------------------------------------------------------------------

    async def run_once(self, now: datetime | None = None) -> int:
        """Claim, send and record one batch due at `now` (the clock's by default).

        Returns the number of rows taken from the queue (sent, retried, failed, dropped
        or released), 0 when nothing was due.
        """
        claim = await self.claim(now)
        await self.deliver(claim)
        return claim.taken

    async def claim(self, now: datetime | None = None) -> Claim:
        """Claim the rows due at `now` (committed before this returns)."""
        at = now or self._clock.now()
        return await anyio.to_thread.run_sync(self._claim, at)

    async def deliver(self, claim: Claim) -> None:
        """Compose, send and record the claimed rows."""
        if not claim.fences:
            return
        prepared = await anyio.to_thread.run_sync(self._compose_all, claim.fences)
        limiter = anyio.Semaphore(self._concurrency)
        recorder = _Recorder(self._record)
        async with anyio.create_task_group() as group:
            for item in prepared:
                group.start_soon(self._deliver_one, item, claim.lease_until, limiter, recorder)

    # --- claim --------------------------------------------------------------------------

    def _claim(self, now: datetime) -> Claim:
        lease_until = now + self._lease
        if not self._full:
            with self._db.read() as session:
                if not queries.any_due(session, now):
                    return Claim((), 0, lease_until)
        with self._db.write() as session:
            rows = queries.due(session, now, self._batch)
            expired = [row for row in rows if _expired(row, now)]
            spent = [
                row for row in rows if not _expired(row, now) and row.attempts >= self._max_attempts
            ]
            closing = {row.id for row in (*expired, *spent)}
            live = [row for row in rows if row.id not in closing]
            fences = queries.claim(
                session, live, worker=self.worker_id, now=now, lease_until=lease_until
            )
            self._close(session, expired, spent, now)
            queries.add_events(session, [self._claimed_event(row, now) for row in live])
        self._full = len(rows) >= self._batch
        self._count_closed(expired, spent)
        return Claim(tuple(fences), len(rows), lease_until)

    def _close(
        self, session: Any, expired: Sequence[Due], spent: Sequence[Due], now: datetime
    ) -> None:
        dropped_reason = "its moment passed before it was sent"
        queries.close_unclaimed(
            session,
            [row.id for row in expired],
            status=queries.DROPPED,
            now=now,
            reason=dropped_reason,
        )
        spent_reason = f"gave up: {self._max_attempts} attempts ended without an outcome"
        queries.close_unclaimed(
            session, [row.id for row in spent], status=queries.FAILED, now=now, reason=spent_reason
        )
        events = [
            queue.log_row(
                row.id,
                "dropped",
                now,
                detail=f"{dropped_reason} (expired {_iso(row.expires_at)})",
                worker=self.worker_id,
            )
            for row in expired
        ]
        events += [
            queue.log_row(row.id, "failed", now, detail=spent_reason, worker=self.worker_id)
            for row in spent
        ]
        queries.add_events(session, events)

    def _claimed_event(self, row: Due, now: datetime) -> dict[str, Any]:
        attempt = f"attempt {row.attempts + 1}"
        if row.status == queries.SENDING:  # its worker died or stalled past the lease
            detail = f"{attempt}; the lease of {row.claimed_by} ran out"
            return queue.log_row(row.id, "reclaimed", now, detail=detail, worker=self.worker_id)
        return queue.log_row(row.id, "claimed", now, detail=attempt, worker=self.worker_id)

    @staticmethod
    def _count_closed(expired: Sequence[Due], spent: Sequence[Due]) -> None:
        for row in expired:
            logger.info(
                "notification %s (%s %s) dropped unsent: it expired at %s",
                row.id,
                row.kind,
                row.channel,
                _iso(row.expires_at),
            )
            telemetry.notification_outcome("dropped", row.channel, row.kind)
        for row in spent:
            logger.warning("notification %s (%s) failed: attempts used up", row.id, row.kind)
            telemetry.notification_outcome("failed", row.channel, row.kind)

    # --- compose and send ---------------------------------------------------------------

    def _compose_all(self, fences: Sequence[Fence]) -> list[_Prepared]:
        prepared = []
        with self._db.read() as session:
            _held = queries.hold_loaded(session)
            rows = queries.claimed_rows(session, [fence.id for fence in fences])
            for fence in fences:
                row = rows.get(fence.id)
                if row is None:  # deleted with its business since the claim
                    continue
                message: Message | DeliveryFailure
                try:
                    message = compose(session, row, self._compose_settings)
                except DeliveryFailure as failure:
                    message = failure
                except Exception as error:  # a template bug must not stop the others
                    logger.exception("could not compose notification %s", row.id)
                    message = TransientFailure(f"could not compose the message: {error!r}")
                prepared.append(_Prepared(fence, row.channel, row.kind, message))
        return prepared

    async def _deliver_one(
        self,
        item: _Prepared,
        lease_until: datetime,
        limiter: anyio.Semaphore,
        recorder: _Recorder,
    ) -> None:
        async with limiter:
            result = await self._send(item, lease_until)
        await recorder.record(_Outcome(item, result))

    async def _send(self, item: _Prepared, lease_until: datetime) -> Result:
        if self._stopping or self._clock.now() + self._send_timeout > lease_until:
            return None  # released: another worker (or this one, later) sends it
        message = item.message
        if isinstance(message, DeliveryFailure):
            return message
        seconds = self._send_timeout.total_seconds()
        try:
            with anyio.fail_after(seconds):
                if isinstance(message, EmailMessage):
                    return await self._email.send_email(message)
                return await self._sms.send_sms(message)
        except DeliveryFailure as failure:
            return failure
        except TimeoutError:
            return TransientFailure(f"the transport did not answer within {seconds:g} s")
        except Exception as error:  # a transport's bug: retried like a transient failure
            logger.exception("transport error sending notification %s", item.fence.id)
            return TransientFailure(f"transport error: {error!r}")

    # --- record -------------------------------------------------------------------------

    def _record(self, outcomes: Sequence[_Outcome]) -> None:
        now = self._clock.now()
        written: list[tuple[_Outcome, str]] = []
        with self._db.write() as session:
            events = []
            for outcome in outcomes:
                event = self._settle(session, outcome, now)
                if event is None:
                    logger.warning(
                        "notification %s: the claim of %s (attempt %d) was taken over; "
                        "its outcome is not recorded",
                        outcome.item.fence.id,
                        self.worker_id,
                        outcome.item.fence.attempts,
                    )
                    continue
                events.append(event)
                written.append((outcome, event["event"]))
            queries.add_events(session, events)
        for outcome, name in written:
            metric = {"sent": "sent", "retrying": "retried", "failed": "failed"}.get(name)
            if metric is not None:
                telemetry.notification_outcome(metric, outcome.item.channel, outcome.item.kind)

    def _settle(self, session: Any, outcome: _Outcome, now: datetime) -> dict[str, Any] | None:
        """Write one outcome under the fence; its log row, or None when fenced out."""
        fence = outcome.item.fence
        event, detail, held = self._write_outcome(session, fence, outcome.result, now)
        if not held:
            return None
        return queue.log_row(fence.id, event, now, detail=detail, worker=self.worker_id)

    def _write_outcome(
        self, session: Any, fence: Fence, result: Result, now: datetime
    ) -> tuple[str, str | None, bool]:
        """(log event, its detail, whether the claim still held and the row changed)."""
        if result is None:
            reason = "the worker stopped" if self._stopping else "too little of the lease left"
            return "released", f"not sent: {reason}", queries.release(session, fence, now)
        if isinstance(result, Receipt):
            held = queries.sent(session, fence, now, result.provider_id)
            return "sent", result.provider_id, held
        reason = result.reason
        if not isinstance(result, PermanentFailure) and fence.attempts >= self._max_attempts:
            reason = f"{reason} (gave up after {fence.attempts} attempts)"
        if isinstance(result, PermanentFailure) or fence.attempts >= self._max_attempts:
            return "failed", reason, queries.failed(session, fence, now, reason)
        at = now + self._backoff.delay(fence.attempts, result.retry_after_seconds)
        detail = f"{reason}; attempt {fence.attempts + 1} at {_iso(at)}"
        return "retrying", detail, queries.retry(session, fence, now, at, reason)


class _Recorder:
    """Group commit: outcomes that finish while a write runs go together in the next.

    Each caller returns once its outcome is written (or given up on). A failed write is
    tried again a few times; an outcome never written leaves its row `sending` until the
    lease runs out, and it is sent again then (logged as an error here).
    """

    def __init__(self, write: Callable[[Sequence[_Outcome]], None]) -> None:
        self._write = write
        self._pending: list[_Outcome] = []
        self._lock = anyio.Lock()

    async def record(self, outcome: _Outcome) -> None:
        self._pending.append(outcome)
        async with self._lock:
            if not self._pending:  # a write that ran meanwhile took ours along
                return
            batch, self._pending = self._pending, []
            await self._write_with_retries(batch)

    async def _write_with_retries(self, batch: list[_Outcome]) -> None:
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                await anyio.to_thread.run_sync(self._write, batch)
                return
            except Exception as error:
                if attempt == RECORD_TRIES:
                    logger.error(
                        "could not record the outcome of %d notifications (%s); they will "
                        "be claimed again once their lease runs out",
                        len(batch),
                        error,
                    )
                    return
                await anyio.sleep(0.2 * 2**attempt)


def _expired(row: Due, now: datetime) -> bool:
    return row.expires_at is not None and row.expires_at <= now


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "-"


@asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[None]:
    """Run the dispatcher's loop for the life of the block; stop it gracefully at the end."""
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(dispatcher.run)
            try:
                yield
            finally:
                dispatcher.stop()
    finally:
        await dispatcher.close()
