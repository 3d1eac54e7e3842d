"""Deciding which messages an appointment change causes: pure functions of plain values.

The booking use-cases call these inside their transaction and write what they return
(see bookings/appointments/notices.py); nothing here reads the database or the clock.

Who hears what:

- customers: a confirmation when booked, a notice when moved or cancelled, and the
  reminders. By e-mail when the customer has an address and the appointment does not
  opt out (`optOutOfCustomerEmail`); by SMS when the service allows SMS
  (`smsNotificationsEnabled`), the customer (or, lacking their own flag, the appointment)
  has it on, and the phone is a valid number.
- staff: a notice to each assigned provider when an appointment of theirs is booked,
  moved or cancelled, and the reminders addressed to staff; e-mail only, and only with
  `isEmailNotificationEnabled` and an address.
- reminders come from the service's `defaultReminders` and the appointment's own
  `reminders` (identical ones count once), each `offset` before the start, to its
  `recipients` (customer, staff or allAttendees). A reminder whose moment is already past
  when it is planned is not planned: it could only arrive late.

A reminder is identified by what it says (offset, recipients, message), so when the
appointment changes, `sync` matches the reminders it should now have with the open rows
it has: matching rows move to the new time, rows no longer wanted are cancelled, new ones
are added. The appointment's iCalendar SEQUENCE is part of a reminder's idempotency key,
so a reminder already sent for the old time is sent again for the new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from openvisit import i18n, phones
from openvisit.notify import sms_text
from openvisit.notify.queue import Audience, Channel, Planned
from openvisit.scheduling.isotime import InvalidIsoValue, format_duration, parse_duration

# Phone numbers stored without a country code are read as the API read them when it
# accepted them (graph/schemas/types.py), unless the business's address names a country.
FALLBACK_PHONE_REGION = "US"

CONFIRMATION = "confirmation"
REMINDER = "reminder"
RESCHEDULED = "rescheduled"
CANCELLED = "cancelled"
STAFF_BOOKED = "staffBooked"
STAFF_RESCHEDULED = "staffRescheduled"
STAFF_CANCELLED = "staffCancelled"


@dataclass(frozen=True, slots=True)
class Recipient:
    channel: Channel
    audience: Audience
    address: str  # an e-mail address or an E.164 number
    name: str | None
    language: str


@dataclass(frozen=True, slots=True)
class StaffContact:
    id: str
    name: str
    email: str | None
    notifications_enabled: bool


@dataclass(frozen=True, slots=True)
class Situation:
    """What planning needs of an appointment, its service and its business."""

    appointment_id: str
    start: datetime
    end: datetime
    sequence: int
    customers: Sequence[Mapping[str, Any]]
    details: Mapping[str, Any]
    staff: Sequence[StaffContact]
    service_reminders: Sequence[Mapping[str, Any]]
    service_sms_enabled: bool
    customer_language: str | None
    service_language: str | None
    business_language: str | None
    business_country: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reminder:
    offset: timedelta
    recipients: str  # customer | staff | allAttendees
    message: str

    @property
    def discriminator(self) -> str:
        digest = hashlib.sha256(self.message.encode("utf-8")).hexdigest()[:12]
        return f"{int(self.offset.total_seconds())}s-{self.recipients}-{digest}"


def customer_language(situation: Situation) -> str:
    return i18n.negotiate(
        chosen=situation.customer_language,
        default=situation.service_language or situation.business_language,
    )


def customer_recipients(situation: Situation) -> list[Recipient]:
    """Every (channel, address) the appointment's customers are reached at."""
    language = customer_language(situation)
    opted_out = bool(situation.details.get("optOutOfCustomerEmail"))
    appointment_sms = bool(situation.details.get("smsNotificationsEnabled"))
    found: dict[tuple[str, str], Recipient] = {}
    for customer in situation.customers:
        name = customer.get("name") or None
        email = customer.get("emailAddress")
        if email and not opted_out:
            found.setdefault(
                ("email", email.lower()), Recipient("email", "customer", email, name, language)
            )
        wants_sms = customer.get("smsNotificationsEnabled")
        wants_sms = appointment_sms if wants_sms is None else bool(wants_sms)
        number = e164(customer.get("phone"), situation.business_country)
        if situation.service_sms_enabled and wants_sms and number:
            found.setdefault(("sms", number), Recipient("sms", "customer", number, name, language))
    return list(found.values())


def staff_recipients(situation: Situation) -> list[Recipient]:
    language = i18n.negotiate(default=situation.business_language)
    found: dict[str, Recipient] = {}
    for member in situation.staff:
        if member.notifications_enabled and member.email:
            found.setdefault(
                member.email.lower(),
                Recipient("email", "staff", member.email, member.name, language),
            )
    return list(found.values())


def e164(phone: object, country: str | None) -> str | None:
    """The number in E.164 form, or None when it cannot take a text message."""
    if not isinstance(phone, str) or not phone.strip():
        return None
    try:
        return sms_text.to_e164(phone, phones.region_of(country) or FALLBACK_PHONE_REGION)
    except sms_text.PhoneNumberError:
        return None


def reminders_of(situation: Situation) -> list[Reminder]:
    """The service's default reminders and the appointment's own, each once."""
    own = situation.details.get("reminders") or ()
    found: dict[str, Reminder] = {}
    for item in (*situation.service_reminders, *own):
        try:
            offset = parse_duration(str(item.get("offset", "")))
        except InvalidIsoValue:
            continue  # stored from a Graph document that validated it; never in practice
        recipients = str(item.get("recipients") or "allAttendees")
        if recipients not in ("customer", "staff", "allAttendees"):
            continue  # unknownFutureValue: a recipient we cannot reach
        reminder = Reminder(offset, recipients, str(item.get("message") or ""))
        found.setdefault(reminder.discriminator, reminder)
    return list(found.values())


def planned_reminders(
    situation: Situation, now: datetime, *, include_past: bool = False
) -> list[Planned]:
    """The reminders the appointment should have pending from `now` on.

    `include_past` keeps those whose moment has passed too: a replan must recognise a
    pending reminder the dispatcher has not reached yet, not mistake it for unwanted.
    """
    customers, staff = customer_recipients(situation), staff_recipients(situation)
    planned = []
    for reminder in reminders_of(situation):
        due = situation.start - reminder.offset
        if due <= now and not include_past:
            continue
        audience: list[Recipient] = []
        if reminder.recipients in ("customer", "allAttendees"):
            audience += customers
        if reminder.recipients in ("staff", "allAttendees"):
            audience += staff
        for recipient in audience:
            planned.append(
                _planned(
                    situation,
                    REMINDER,
                    recipient,
                    due=due,
                    expires_at=situation.start,
                    discriminator=f"{reminder.discriminator}@{situation.sequence}",
                    data={"message": reminder.message, "offset": format_duration(reminder.offset)},
                )
            )
    return planned


def booked(situation: Situation, now: datetime) -> list[Planned]:
    """A new booking: confirmations, the providers' notices and the reminders."""
    return [
        *notices(situation, CONFIRMATION, customer_recipients(situation), now),
        *notices(situation, STAFF_BOOKED, staff_recipients(situation), now),
        *planned_reminders(situation, now),
    ]


def notices(
    situation: Situation,
    kind: str,
    recipients: Iterable[Recipient],
    now: datetime,
    data: Mapping[str, Any] | None = None,
) -> list[Planned]:
    """One message of `kind` to each recipient, due now; pointless once the visit ended."""
    return [
        _planned(
            situation,
            kind,
            recipient,
            due=now,
            expires_at=situation.end,
            discriminator=f"{situation.sequence}",
            data=dict(data or {}),
        )
        for recipient in recipients
    ]


def reminder_match(planned: Planned) -> tuple[str, str, str]:
    """What identifies a reminder across reschedules: what it says, how, to whom."""
    return match_key(planned.idempotency_key, planned.channel, planned.recipient)


def match_key(idempotency_key: str, channel: str, recipient: str) -> tuple[str, str, str]:
    # <appointment>:reminder:<discriminator>@<sequence>:<channel>:<recipient>
    discriminator = idempotency_key.split(":")[2].partition("@")[0]
    return discriminator, channel, recipient.lower()


def _planned(
    situation: Situation,
    kind: str,
    recipient: Recipient,
    *,
    due: datetime,
    expires_at: datetime,
    discriminator: str,
    data: dict[str, Any],
) -> Planned:
    key = ":".join(
        (
            situation.appointment_id,
            kind,
            discriminator,
            recipient.channel,
            recipient.address.lower(),
        )
    )
    return Planned(
        kind=kind,
        channel=recipient.channel,
        audience=recipient.audience,
        recipient=recipient.address,
        recipient_name=recipient.name,
        language=recipient.language,
        due_at=due,
        expires_at=expires_at,
        idempotency_key=key,
        data={"sequence": situation.sequence, **situation.extra, **data},
    )
