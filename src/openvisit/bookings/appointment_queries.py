"""Reads over appointments: the OData list, calendarView.

Cancelled appointments stay in the table for history (GET by id still finds them, and
PATCH or cancel on them answers 409), but the list and calendarView show booked ones
only: Bookings takes a cancelled appointment off the business calendar, so a client
that lists the calendar never sees it, and its time shows as free again.
"""

from __future__ import annotations

from sqlalchemy import select

from openvisit.bookings.appointments import ACTIVE
from openvisit.bookings.appointments.checks import MAX_SPAN
from openvisit.bookings.records import require_business, snapshots
from openvisit.bookings.views import AppointmentView
from openvisit.listing import ListQuery, Page
from openvisit.scheduling.intervals import Interval
from openvisit.store.db import Database
from openvisit.store.listing import fetch_page
from openvisit.store.models import Appointment, StaffHold

# API property -> column, for $filter and $orderby. The `/dateTime` paths are the
# complex-property spelling Graph clients use for dateTimeTimeZone values.
APPOINTMENT_COLUMNS = {
    "id": Appointment.id,
    "serviceId": Appointment.service_id,
    "serviceName": Appointment.display_name,
    "startDateTime": Appointment.start_date_time,
    "startDateTime/dateTime": Appointment.start_date_time,
    "endDateTime": Appointment.end_date_time,
    "endDateTime/dateTime": Appointment.end_date_time,
    "customerTimeZone": Appointment.customer_time_zone,
    "createdDateTime": Appointment.created_date_time,
    "lastUpdatedDateTime": Appointment.last_updated_date_time,
}


def list_appointments(
    db: Database,
    business_id: str,
    query: ListQuery,
    *,
    page_size: int,
    window: Interval | None = None,
    own_staff_id: str | None = None,
) -> Page[AppointmentView]:
    """Booked appointments, by start then id; with `window`, those overlapping it.

    With `own_staff_id`, only that staff member's: their holds name exactly the booked
    appointments they deliver.
    """
    with db.read() as session:
        business = require_business(session, business_id)
        statement = select(Appointment).where(
            Appointment.business_id == business.id, Appointment.status == ACTIVE
        )
        if own_staff_id is not None:
            held = select(StaffHold.appointment_id).where(StaffHold.staff_id == own_staff_id)
            if window is not None:  # a hold spans its appointment: read from the window on
                held = held.where(
                    StaffHold.blocked_end > window.start, StaffHold.blocked_start < window.end
                )
            statement = statement.where(Appointment.id.in_(held))
        if window is not None:
            statement = statement.where(
                # An appointment lasts at most MAX_SPAN, so one meeting the window starts
                # after window.start - MAX_SPAN: stated so the (business, start) index
                # range begins there, not at the first appointment ever booked.
                Appointment.start_date_time > window.start - MAX_SPAN,
                Appointment.start_date_time < window.end,
                Appointment.end_date_time > window.start,
            )
        page = fetch_page(
            session,
            statement,
            query,
            APPOINTMENT_COLUMNS,
            default_order=[Appointment.start_date_time, Appointment.id],
            page_size=page_size,
        )
        return snapshots(AppointmentView, page)
