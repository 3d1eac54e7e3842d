"""/dev/outbox through the real app: who may look, the list, one message, its invite."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from openvisit.clock import FixedClock
from openvisit.meetings.staff_users import create_user
from openvisit.notify.messages import Attachment, EmailMessage, TextMessage
from openvisit.notify.transports.outbox import OutboxTransport
from openvisit.runtime import Runtime
from tests.web.test_sign_in import PASSWORD, make_admin, submit_login

INVITE = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
MANAGE = "http://testserver/manage/abc123"
# Markup a mail client would show: a script the frame must never run, a styled link.
HTML_PART = (
    "<html><head><style>p { color: #123456; }</style></head><body>"
    f'<p id="hello">Hello Ann</p><a href="{MANAGE}">Manage</a>'
    "<script>parent.document.title = 'owned'</script></body></html>"
)


def email(number: int = 1, **changes: object) -> EmailMessage:
    fields: dict[str, object] = {
        "to_address": "ann@example.test",
        "to_name": "Ann Customer",
        "subject": f"Your visit {number}",
        "text": f"Hello Ann,\nmanage your visit at {MANAGE}.\n",
        "html": HTML_PART,
        "message_id": f"<k{number}@openvisit.test>",
        "idempotency_key": f"appointment:confirmation:{number}",
        "calendar": Attachment("invite.ics", "text/calendar; method=REQUEST", INVITE.encode()),
        "attachments": (Attachment("intake.pdf", "application/pdf", b"%PDF-1.7" * 300),),
    }
    fields.update(changes)
    return EmailMessage(**fields)  # type: ignore[arg-type]  # fields checked by the dataclass


def keep(runtime: Runtime, *messages: EmailMessage | TextMessage) -> list[int]:
    """Put messages into the outbox through the real transport; their ids, in order."""
    outbox = OutboxTransport(runtime.db, runtime.clock)

    async def send() -> list[int]:
        ids = []
        for message in messages:
            if isinstance(message, EmailMessage):
                receipt = await outbox.send_email(message)
            else:
                receipt = await outbox.send_sms(message)
            assert receipt.provider_id is not None
            ids.append(int(receipt.provider_id.removeprefix("outbox:")))
        return ids

    return asyncio.run(send())


@pytest.fixture
def browser(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def admin(browser: TestClient, runtime: Runtime) -> TestClient:
    make_admin(runtime)
    assert submit_login(browser).status_code == 303
    return browser


def summaries(page_html: str) -> list[str]:
    found = re.findall(r'class="outbox-summary" href="/dev/outbox/\d+">([^<]*)</a>', page_html)
    return [html.unescape(text) for text in found]


@pytest.mark.parametrize("path", ["/dev/outbox", "/dev/outbox/1", "/dev/outbox/1/invite.ics"])
def test_signed_out_visitors_go_to_the_login_page(browser, runtime, path):
    keep(runtime, email())

    response = browser.get(path)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", ["/dev/outbox", "/dev/outbox/1", "/dev/outbox/1/invite.ics"])
def test_staff_who_are_not_administrators_are_refused(browser, runtime, path):
    keep(runtime, email())
    create_user(
        runtime.db,
        runtime.clock,
        email="sam@example.test",
        role="scheduler",
        password=PASSWORD,
        display_name="Sam Scheduler",
    )
    assert submit_login(browser, email="sam@example.test").status_code == 303

    response = browser.get(path)

    assert response.status_code == 403
    assert "server administrators only" in response.text
    assert "Your visit" not in response.text
    assert "BEGIN:VCALENDAR" not in response.text


def test_the_list_shows_each_message_newest_first(admin, runtime):
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    keep(runtime, email(1))
    clock.advance(timedelta(minutes=5))
    # 161 GSM-7 characters: one more than a single segment holds.
    keep(runtime, TextMessage("+4915112345678", "x" * 161, "appointment:reminder:sms"))

    response = admin.get("/dev/outbox")

    assert response.status_code == 200
    assert summaries(response.text) == ["x" * 159 + "\u2026", "Your visit 1"]
    text = html.unescape(response.text)
    assert "to +4915112345678" in text
    assert "2 segments" in text
    assert "to Ann Customer <ann@example.test>" in text
    assert "2026-11-23 14:05:00 UTC" in text
    assert '<time datetime="2026-11-23T14:00:00+00:00">' in response.text
    # The strict policy holds on the list: nothing of a message's markup is rendered here.
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert "<iframe" not in response.text


def test_an_empty_outbox_says_so(admin):
    response = admin.get("/dev/outbox")

    assert response.status_code == 200
    assert "The outbox is empty" in response.text
    assert 'rel="next"' not in response.text


def test_the_list_pages_fifty_at_a_time_by_id(admin, runtime):
    ids = keep(runtime, *(email(number) for number in range(1, 121)))

    first = admin.get("/dev/outbox")
    assert summaries(first.text) == [f"Your visit {n}" for n in range(120, 70, -1)]
    assert 'rel="prev"' not in first.text
    older = re.search(r'href="(/dev/outbox\?before=\d+)" rel="next"', first.text)
    assert older, "the first page links the older messages"
    assert older.group(1) == f"/dev/outbox?before={ids[70]}"

    # Messages kept meanwhile do not shift the next page, as an offset would.
    keep(runtime, email(121))
    second = admin.get(older.group(1))
    assert summaries(second.text) == [f"Your visit {n}" for n in range(70, 20, -1)]
    third_link = re.search(r'href="(/dev/outbox\?before=\d+)" rel="next"', second.text)
    assert third_link
    third = admin.get(third_link.group(1))
    assert summaries(third.text) == [f"Your visit {n}" for n in range(20, 0, -1)]
    assert 'rel="next"' not in third.text

    newer = re.search(r'href="(/dev/outbox\?after=\d+)" rel="prev"', third.text)
    assert newer
    back = admin.get(newer.group(1))
    assert summaries(back.text) == [f"Your visit {n}" for n in range(70, 20, -1)]


def test_a_cursor_that_is_not_an_id_shows_the_newest_page(admin, runtime):
    keep(runtime, email(1), email(2))

    for junk in ("abc", "9" * 40, "-1", "\u0661"):  # the last an Arabic-Indic digit
        response = admin.get("/dev/outbox", params={"before": junk})
        assert response.status_code == 200
        assert summaries(response.text) == ["Your visit 2", "Your visit 1"]


def test_an_email_shows_its_headers_parts_and_attachments(admin, runtime):
    [kept] = keep(runtime, email())

    response = admin.get(f"/dev/outbox/{kept}")

    assert response.status_code == 200
    text = html.unescape(response.text)
    assert "<h1>Your visit 1</h1>" in text
    assert "Ann Customer <ann@example.test>" in text
    assert "appointment:confirmation:1" in text
    assert "2026-11-23 14:00:00 UTC" in text
    # The text part's link is clickable; the sentence's full stop is not part of it.
    assert f'<a href="{MANAGE}" target="_blank" rel="noopener">{MANAGE}</a>.' in response.text
    assert "intake.pdf" in text
    assert "(application/pdf, 2.3 KB)" in text
    assert f'href="/dev/outbox/{kept}/invite.ics"' in response.text
    assert "METHOD:REQUEST" in text


def test_the_html_part_is_only_inside_a_sandboxed_frame(admin, runtime):
    [kept] = keep(runtime, email())

    response = admin.get(f"/dev/outbox/{kept}")

    frames = re.findall(r"<iframe\b[^>]*>", response.text)
    assert len(frames) == 1
    sandbox = re.search(r'sandbox="([^"]*)"', frames[0])
    assert sandbox
    # No scripts and no same-origin: the markup can neither run nor reach this page.
    assert sandbox.group(1).split() == ["allow-popups", "allow-popups-to-escape-sandbox"]
    srcdoc = re.search(r'srcdoc="([^"]*)"', frames[0])
    assert srcdoc
    assert html.unescape(srcdoc.group(1)) == '<!doctype html><base target="_blank">' + HTML_PART
    # Outside the attribute, the message's markup never appears as markup.
    outside = response.text.replace(srcdoc.group(0), "")
    assert "<script>" not in outside
    assert '<p id="hello">' not in outside
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'self'")
    assert "script-src" not in policy  # still 'self' only, by default-src
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "frame-ancestors 'none'" in policy


def test_a_text_message_shows_its_segments_and_no_frame(admin, runtime):
    body = "Your visit is tomorrow at 10:00 \u2013 reply STOP to opt out"
    [kept] = keep(runtime, TextMessage("+4915112345678", body, "appointment:reminder:sms"))

    response = admin.get(f"/dev/outbox/{kept}")

    assert response.status_code == 200
    text = html.unescape(response.text)
    assert "<h1>Text message</h1>" in text
    assert "+4915112345678" in text
    assert "1 (UCS-2)" in text  # the en dash is not GSM-7
    assert body in text
    assert "<iframe" not in response.text
    assert "invite.ics" not in response.text


@pytest.mark.parametrize("number", ["999", "0", "abc", "1" * 30])
def test_an_unknown_message_is_404(admin, runtime, number):
    keep(runtime, email())

    response = admin.get(f"/dev/outbox/{number}")

    assert response.status_code == 404
    assert "no message with this number" in response.text
    assert admin.get(f"/dev/outbox/{number}/invite.ics").status_code == 404


def test_the_invite_downloads_as_a_calendar_file(admin, runtime):
    [kept, plain] = keep(runtime, email(1), email(2, calendar=None))

    response = admin.get(f"/dev/outbox/{kept}/invite.ics")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="invite.ics"'
    assert response.content == INVITE.encode()
    assert admin.get(f"/dev/outbox/{plain}/invite.ics").status_code == 404


def test_the_staff_page_links_the_outbox_for_administrators(admin):
    assert 'href="/dev/outbox"' in admin.get("/staff").text
