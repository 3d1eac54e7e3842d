"""The appointment a consumer's manage link opens, checked against the database.

The token proves who signed it and until when (`link_tokens`); whether it still works is
decided here: the appointment must exist and the link must carry its current
`link_version` (raising it revokes every link given out). A cancelled appointment still
opens, so the consumer can see that it is cancelled and book again.
"""

from __future__ import annotations

from dataclasses import dataclass

from openvisit import consumer_links, link_tokens
from openvisit.bookings.views import AppointmentView, BusinessView, snapshot
from openvisit.clock import Clock
from openvisit.errors import NotFound
from openvisit.store.db import Database
from openvisit.store.models import Appointment, Business


@dataclass(frozen=True, slots=True)
class LinkedAppointment:
    appointment: AppointmentView
    business: BusinessView
    token: str


def appointment_for_link(
    db: Database, clock: Clock, secret_key: str, token: str
) -> LinkedAppointment:
    """The appointment `token` manages; NotFound (manageLinkInvalid/Expired) otherwise."""
    try:
        claim = link_tokens.verify(secret_key, consumer_links.MANAGE, token, now=clock.now())
    except link_tokens.InvalidLink as error:
        raise NotFound("manageLinkExpired" if error.expired else "manageLinkInvalid") from error
    with db.read() as session:
        appointment = session.get(Appointment, claim.subject)
        if appointment is None or appointment.link_version != claim.version:
            raise NotFound("manageLinkInvalid")
        business = session.get(Business, appointment.business_id)
        if business is None:  # pragma: no cover - the foreign key cascades
            raise NotFound("manageLinkInvalid")
        return LinkedAppointment(
            appointment=snapshot(AppointmentView, appointment),
            business=snapshot(BusinessView, business),
            token=token,
        )


def manage_token_for(secret_key: str, appointment: AppointmentView) -> str:
    """A fresh manage token for the appointment as it stands (its version and end)."""
    return consumer_links.manage_token(
        secret_key,
        appointment.id,
        version=appointment.link_version,
        end=appointment.end_date_time,
    )
