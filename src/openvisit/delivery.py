"""The notification dispatcher put together from Settings, for `openvisit serve` (app.py)
and `openvisit worker` (cli.py): the one place that turns settings into transports,
compose settings and the dispatcher's knobs."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from datetime import timedelta

import anyio
from pydantic import SecretStr

from openvisit.bookings import documents
from openvisit.clock import Clock
from openvisit.config import Settings
from openvisit.notify.backoff import Backoff
from openvisit.notify.compose import ComposeSettings
from openvisit.notify.dispatcher import Dispatcher
from openvisit.notify.transports import registry
from openvisit.notify.transports.registry import TransportOptions
from openvisit.redact import mask_url_password
from openvisit.startup import StartupError
from openvisit.store.db import Database
from openvisit.store.migrate import revisions


def transport_values(settings: Settings) -> dict[str, object]:
    """Every setting by field name, secrets unwrapped: what transport factories read."""
    values: dict[str, object] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        values[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
    return values


def check_transports(settings: Settings, db: Database, clock: Clock) -> None:
    """Refuse an unknown transport name or unusable transport settings before starting.

    Building a transport connects to nothing, so this costs nothing at start and turns
    a wrong setting into one `openvisit: ...` line instead of a failing worker.
    """
    registry.check_names(settings.email_transport, settings.sms_transport)
    options = TransportOptions(db, clock, transport_values(settings))

    async def build_and_close() -> None:
        await registry.load_email_transport(settings.email_transport, options).close()
        await registry.load_sms_transport(settings.sms_transport, options).close()

    anyio.run(build_and_close)


def build_dispatcher(
    settings: Settings,
    db: Database,
    clock: Clock,
    *,
    secret_key: str,
    base_url: str | None = None,
    worker_id: str | None = None,
) -> Dispatcher:
    options = TransportOptions(db, clock, transport_values(settings))
    return Dispatcher(
        db,
        clock,
        registry.load_email_transport(settings.email_transport, options),
        registry.load_sms_transport(settings.sms_transport, options),
        ComposeSettings(
            base_url=base_url or settings.public_base_url,
            secret_key=secret_key,
            uid_domain=settings.business_id_domain,
            templates_dir=settings.data_dir / "templates",
            prerequisites=documents.prerequisites_in,
        ),
        worker_id=worker_id,
        batch=settings.notification_batch_size,
        concurrency=settings.notification_concurrency,
        lease=timedelta(seconds=settings.notification_lease_seconds),
        send_timeout=timedelta(seconds=settings.notification_send_timeout_seconds),
        max_attempts=settings.notification_max_attempts,
        backoff=Backoff(
            first=timedelta(seconds=settings.notification_retry_seconds),
            cap=timedelta(seconds=settings.notification_retry_max_seconds),
        ),
        poll_interval=settings.notification_poll_seconds,
    )


def check_migrated(database_url: str) -> None:
    """A worker sends from a schema it knows, and never migrates one itself: migrating
    belongs to `openvisit db upgrade` and `serve`, run by whoever upgrades OpenVisit."""
    current, head = revisions(database_url)
    if current != head:
        raise StartupError(
            f"The database ({mask_url_password(database_url)}) is at revision "
            f"{current or 'none (it is empty)'}, not {head}, which this OpenVisit needs. Run "
            "`openvisit db upgrade` (or start `openvisit serve`, which migrates) first."
        )


async def work(dispatcher: Dispatcher, *, once: bool) -> None:
    """The `openvisit worker` process: send until SIGTERM or SIGINT (or, with `once`,
    until nothing is due), finishing the sends in flight before it returns."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with anyio.create_task_group() as group:
            group.start_soon(_stop_on_signal, signals, dispatcher)
            try:
                if once:
                    while not dispatcher.stopping and await dispatcher.run_once():
                        pass
                else:
                    await dispatcher.run()
            finally:
                group.cancel_scope.cancel()  # only the signal watcher is left to end
    await dispatcher.close()


async def _stop_on_signal(signals: AsyncIterator[int], dispatcher: Dispatcher) -> None:
    async for _number in signals:
        dispatcher.stop()
        return
