"""The dispatcher is put together from Settings; settings that cannot work stop the start."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from openvisit.config import Settings
from openvisit.delivery import build_dispatcher, transport_values
from openvisit.store.models import OutboxMessage
from tests.conftest import TEST_SECRET
from tests.notify.support import due_now, make_visit


def test_a_lease_no_longer_than_the_send_timeout_is_refused():
    with pytest.raises(ValidationError) as refused:
        Settings(notification_send_timeout_seconds=20, notification_lease_seconds=20)
    [error] = refused.value.errors()
    assert error["loc"] == ("notification_lease_seconds",)
    assert "must be longer than OPENVISIT_NOTIFICATION_SEND_TIMEOUT_SECONDS (20)" in error["msg"]


def test_a_retry_cap_below_the_first_wait_is_refused():
    with pytest.raises(ValidationError, match="at least OPENVISIT_NOTIFICATION_RETRY_SECONDS"):
        Settings(notification_retry_seconds=600, notification_retry_max_seconds=60)


def test_transports_see_every_setting_with_secrets_unwrapped(tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr(TEST_SECRET))

    values = transport_values(settings)

    assert set(values) == set(Settings.model_fields)
    assert values["secret_key"] == TEST_SECRET
    assert values["email_transport"] == "outbox"


def test_the_dispatcher_takes_its_batch_lease_and_transports_from_the_settings(
    runtime, clock, tmp_path
):
    visit = make_visit(runtime)
    due_now(runtime, visit, count=10)
    settings = Settings(data_dir=tmp_path, notification_batch_size=7, notification_lease_seconds=90)
    sender = build_dispatcher(settings, runtime.db, clock, secret_key=TEST_SECRET, worker_id="w")

    claim = asyncio.run(sender.claim())
    assert (len(claim.fences), claim.lease_until) == (7, clock.now() + timedelta(seconds=90))
    assert sender.worker_id == "w"
    asyncio.run(sender.deliver(claim))

    with runtime.db.read() as session:
        kept = session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert len(kept) == 7  # the configured transport: the outbox
