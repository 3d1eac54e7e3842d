"""The confirmation of an online appointment carries the consumer's join link and the
device check link: in the e-mail's text and HTML, its .ics and the SMS, in English and
German; the provider's notice carries their own link."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openvisit.notify.messages import EmailMessage, TextMessage
from openvisit.runtime import Runtime
from tests.bookings.clinic import make_clinic
from tests.factories import BUSINESSES, make_service
from tests.notify.support import Recording, dispatcher

TUESDAY_10 = {"dateTime": "2026-11-24T15:00:00Z", "timeZone": "UTC"}


def book_online(
    client: Any, auth: dict[str, str], runtime: Runtime, language: str | None = None
) -> tuple[dict[str, Any], list[EmailMessage | TextMessage]]:
    clinic = make_clinic(runtime)
    service = make_service(
        runtime,
        clinic["business"],
        "Video visit",
        is_location_online=True,
        sms_notifications_enabled=True,
        staff_member_ids=[clinic["ann"]],
        **({"language_tag": language} if language else {}),
    )
    sent = {
        "serviceId": service,
        "startDateTime": TUESDAY_10,
        "staffMemberIds": [clinic["ann"]],
        "smsNotificationsEnabled": True,
        "customers": [
            {"name": "Jordan Lee", "emailAddress": "jordan@example.test", "phone": "+12065550100"}
        ],
    }
    response = client.post(
        f"{BUSINESSES}/{clinic['business']}/appointments", json=sent, headers=auth
    )
    assert response.status_code == 201, response.text
    transport = Recording()
    asyncio.run(dispatcher(runtime.db, runtime.clock, transport).run_once())
    return response.json(), transport.messages


def test_the_confirmation_carries_the_join_and_device_check_links(client, auth, runtime):
    appointment, messages = book_online(client, auth, runtime)
    join = appointment["anonymousJoinWebUrl"]
    check = f"{join}/check"
    emails = {m.to_address: m for m in messages if isinstance(m, EmailMessage)}
    [text] = [m for m in messages if isinstance(m, TextMessage)]

    confirmation = emails["jordan@example.test"]
    assert f"Join the video visit:\n{join}" in confirmation.text
    assert f"Test your camera and microphone beforehand:\n{check}" in confirmation.text
    html = confirmation.html or ""
    assert f'href="{join}"' in html and f'href="{check}"' in html
    assert confirmation.calendar is not None
    calendar = confirmation.calendar.data.decode().replace("\r\n ", "")
    assert f"LOCATION:{join}" in calendar
    assert f"Join the video visit: {join}" in calendar.replace("\\n", "\n")
    assert join in text.body.split("\n")
    provider = emails["ann@example.test"]
    assert appointment["joinWebUrl"] in provider.text
    assert join not in provider.text  # the consumer's capability is theirs alone


@pytest.mark.parametrize("language", ["de"])
def test_the_links_are_introduced_in_the_readers_language(client, auth, runtime, language):
    appointment, messages = book_online(client, auth, runtime, language)
    [confirmation] = [
        m for m in messages if isinstance(m, EmailMessage) and m.to_address == "jordan@example.test"
    ]
    assert f"Zur Videosprechstunde:\n{appointment['anonymousJoinWebUrl']}" in confirmation.text
    assert "Kamera und Mikrofon vorab testen" in (confirmation.html or "")
