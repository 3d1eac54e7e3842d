"""A consumer's link is a capability: logs never show the token in its path."""

from __future__ import annotations

from datetime import UTC, datetime

from openvisit.consumer_links import manage_token, manage_url
from openvisit.redact import redact
from tests.conftest import TEST_SECRET


def test_a_manage_link_in_a_log_line_keeps_its_shape_not_its_token():
    token = manage_token(TEST_SECRET, "a1b2", version=0, end=datetime(2026, 12, 8, tzinfo=UTC))
    line = f'"GET {manage_url("", token)}/reschedule?day=2026-12-08 HTTP/1.1" 200'
    logged = redact(line)
    assert token not in logged
    assert logged == '"GET /manage/***/reschedule?day=2026-12-08 HTTP/1.1" 200'
    assert redact(f"/manage/{token}") == "/manage/***"
