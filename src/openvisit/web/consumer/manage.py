"""The manage link: /manage/{token} and what it opens.

- `/manage/{token}`: the appointment, and what the consumer may still do with it. When
  the service's change cutoff has passed, or the business does not let customers manage
  bookings, the page says so and whom to contact; a cancelled one says it is cancelled
  and links to the booking page.
- `/manage/{token}/booked`: the confirmation right after booking.
- `/manage/{token}/calendar.ics`: "Add to calendar" (METHOD:PUBLISH, the appointment's
  UID and SEQUENCE, the manage link as URL).
- `/manage/{token}/reschedule` (GET: the slot step; POST: move) and
  `/manage/{token}/cancel` (GET: confirm, with an optional reason; POST: cancel).

A link that is forged, revoked or expired gets a 404 page that shows nothing of any
appointment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from openvisit import consumer_links
from openvisit.bookings.manage_links import manage_token_for
from openvisit.bookings.manage_page import (
    MAX_CANCEL_REASON,
    ManagedAppointment,
    cancel_by_link,
    managed_appointment,
    reschedule_by_link,
)
from openvisit.errors import DomainError, NotFound, RetryLater
from openvisit.notify import ics
from openvisit.runtime import Runtime
from openvisit.web.consumer.booking import FormDep
from openvisit.web.consumer.common import (
    SLOT_REASONS,
    duration_text,
    retry_later,
    summary,
    throttled,
)
from openvisit.web.consumer.common import not_found as page_not_found
from openvisit.web.consumer.rendering import (
    brand_of,
    csrf_ok,
    gettext_for,
    page_language,
    render,
)
from openvisit.web.consumer.slots import parse_start, slot_step
from openvisit.web.consumer.zones import ConsumerZone, consumer_zone
from openvisit.web.deps import ClientDep, RuntimeDep
from openvisit.web.rendering import PageRoute, see_other

router = APIRouter(include_in_schema=False, route_class=PageRoute)
OptionalQuery = Annotated[str | None, Query(max_length=64)]


@router.get("/manage/{token}")
def manage_page(
    request: Request, runtime: RuntimeDep, token: str, done: OptionalQuery = None
) -> Response:
    managed = _managed(request, runtime, token)
    if isinstance(managed, Response):
        return managed
    return _manage(request, runtime, managed, notice=done)


@router.get("/manage/{token}/booked")
def booked_page(request: Request, runtime: RuntimeDep, token: str) -> Response:
    managed = _managed(request, runtime, token)
    if isinstance(managed, Response):
        return managed
    language = _language(request, managed)
    zone = _zone(managed, None)
    context = {
        "brand": brand_of(managed.business),
        "summary": _summary(managed, zone, language),
        "calendar_url": consumer_links.calendar_url("", token),
        "manage_url": consumer_links.manage_url("", token),
        "manage_link": consumer_links.manage_url(runtime.base_url, token),
        "email": _email(managed),
    }
    return render(
        request,
        runtime,
        "booked.html",
        context,
        language=language,
        here=f"/manage/{token}/booked",
    )


@router.get("/manage/{token}/calendar.ics")
def calendar_file(request: Request, runtime: RuntimeDep, token: str) -> Response:
    managed = _managed(request, runtime, token)
    if isinstance(managed, Response):
        return managed
    language = _language(request, managed)
    _ = gettext_for(language)
    appointment = managed.appointment
    link = consumer_links.manage_url(runtime.base_url, token)
    event = ics.CalendarEvent(
        uid=ics.appointment_uid(appointment.id, runtime.business_id_domain),
        sequence=appointment.ical_sequence,
        start=appointment.start_date_time,
        end=appointment.end_date_time,
        summary=_("%(service)s with %(business)s")
        % {"service": appointment.display_name, "business": managed.business.display_name},
        description=_("View, reschedule or cancel: %(link)s") % {"link": link},
        stamp=runtime.clock.now(),
        url=link,
        cancelled=managed.closed == "cancelled",
    )
    return Response(
        ics.calendar_file(event, "PUBLISH"),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="appointment.ics"'},
    )


@router.get("/manage/{token}/reschedule")
def reschedule_page(
    request: Request,
    runtime: RuntimeDep,
    token: str,
    tz: OptionalQuery = None,
    week: OptionalQuery = None,
    day: OptionalQuery = None,
) -> Response:
    managed = _managed(request, runtime, token)
    if isinstance(managed, Response):
        return managed
    if managed.closed is not None or managed.service is None:
        return see_other(f"/manage/{token}")
    zone = _zone(managed, tz)
    return _reschedule(request, runtime, managed, token, zone, week=week, day=day)


@router.post("/manage/{token}/reschedule")
def reschedule(
    request: Request, runtime: RuntimeDep, client: ClientDep, token: str, form: FormDep
) -> Response:
    managed = _managed(request, runtime, token)
    if isinstance(managed, Response):
        return managed
    limited = throttled(
        request, runtime, client.address, business=managed.business, back=f"/manage/{token}"
    )
    if limited is not None:
        return limited
    _ = gettext_for(_language(request, managed))
    zone = _zone(managed, _field(form, "tz"))
    start = parse_start(_field(form, "start"))
    if not csrf_ok(request, runtime, _field(form, "csrf_token")) or start is None:
        message = (
            _("Choose a new time.")
            if start is None
            else _("This form has expired. Please choose the time again.")
        )
        return _reschedule(request, runtime, managed, token, zone, message=message, status=400)
    try:
        moved = reschedule_by_link(
            runtime.db,
            runtime.clock,
            runtime.secret_key,
            token,
            start,
            read_at=_read_at(_field(form, "read_at"), managed),
            actor=f"manageLink:{client.address or 'unknown'}",
        )
    except NotFound as missing:
        return _link_not_found(request, runtime, missing)
    except RetryLater as refused:
        return retry_later(
            request, runtime, refused, business=managed.business, back=f"/manage/{token}"
        )
    except DomainError as refused:
        return _change_refused(request, runtime, managed, token, zone, start, refused)
    return see_other(f"/manage/{manage_token_for(runtime.secret_key, moved)}?done=moved")


@router.get("/manage/{token}/cancel")
def cancel_page(request: Request, runtime: RuntimeDep, token: str) -> Response:
    managed = _managed(request, runtime, token)
    if isinstance(managed, Response):
        return managed
    if managed.closed is not None:
        return see_other(f"/manage/{token}")
    return _cancel_form(request, runtime, managed, token)


@router.post("/manage/{token}/cancel")
def cancel(
    request: Request, runtime: RuntimeDep, client: ClientDep, token: str, form: FormDep
) -> Response:
    managed = _managed(request, runtime, token)
    if isinstance(managed, Response):
        return managed
    limited = throttled(
        request, runtime, client.address, business=managed.business, back=f"/manage/{token}"
    )
    if limited is not None:
        return limited
    reason = form.get("reason")
    reason_text = reason[:MAX_CANCEL_REASON] if isinstance(reason, str) else ""
    if not csrf_ok(request, runtime, _field(form, "csrf_token")):
        _ = gettext_for(_language(request, managed))
        message = _("This form has expired. Please send it again.")
        return _cancel_form(request, runtime, managed, token, message, reason_text, status=400)
    try:
        cancel_by_link(
            runtime.db,
            runtime.clock,
            runtime.secret_key,
            token,
            reason_text,
            actor=f"manageLink:{client.address or 'unknown'}",
        )
    except NotFound as missing:
        return _link_not_found(request, runtime, missing)
    except RetryLater as refused:
        return retry_later(
            request, runtime, refused, business=managed.business, back=f"/manage/{token}"
        )
    except DomainError:
        # The cutoff passed, the business closed the link, or it is cancelled already:
        # the appointment's page, read again, says which.
        return _manage(request, runtime, _reread(runtime, token, managed), status=409)
    return see_other(f"/manage/{token}?done=cancelled")


def _managed(request: Request, runtime: Runtime, token: str) -> ManagedAppointment | Response:
    try:
        return managed_appointment(runtime.db, runtime.clock, runtime.secret_key, token)
    except NotFound as missing:
        return _link_not_found(request, runtime, missing)


def _reread(runtime: Runtime, token: str, managed: ManagedAppointment) -> ManagedAppointment:
    try:
        return managed_appointment(runtime.db, runtime.clock, runtime.secret_key, token)
    except NotFound:
        return managed


def _link_not_found(request: Request, runtime: Runtime, missing: NotFound) -> Response:
    language = page_language(request, None)
    _ = gettext_for(language)
    message = (
        _("This link has expired. Please contact the business for a new one.")
        if missing.reason == "manageLinkExpired"
        else _("This link is not valid. Please check that you copied all of it.")
    )
    return page_not_found(request, runtime, message=message)


def _language(request: Request, managed: ManagedAppointment) -> str:
    return page_language(
        request,
        managed.business.language_tag,
        preferred=managed.appointment.customer_language,
    )


def _zone(managed: ManagedAppointment, asked: str | None) -> ConsumerZone:
    """The zone asked for, else the one the consumer booked in, else the business's."""
    settings = managed.business.booking_page_settings or {}
    default = str(settings.get("businessTimeZone") or "UTC")
    return consumer_zone(asked or managed.appointment.customer_time_zone, default)


def _summary(managed: ManagedAppointment, zone: ConsumerZone, language: str) -> dict[str, Any]:
    appointment = managed.appointment
    return summary(
        service_name=appointment.display_name,
        start=appointment.start_date_time,
        end=appointment.end_date_time,
        zone=zone,
        language=language,
        staff=[choice.display_name for choice in managed.staff],
    )


def _email(managed: ManagedAppointment) -> str | None:
    customers = managed.appointment.customers
    return str(customers[0].get("emailAddress") or "") or None if customers else None


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip()[:64] if isinstance(value, str) else ""


def _read_at(text: str, managed: ManagedAppointment) -> datetime:
    """The lastUpdatedDateTime the page showed; a mangled one reads as "changed since"."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.fromtimestamp(0, managed.appointment.last_updated_date_time.tzinfo)


def _manage(
    request: Request,
    runtime: Runtime,
    managed: ManagedAppointment,
    *,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    language = _language(request, managed)
    zone = _zone(managed, None)
    token = manage_token_for(runtime.secret_key, managed.appointment)
    business = managed.business
    context = {
        "brand": brand_of(business),
        "summary": _summary(managed, zone, language),
        "closed": managed.closed,
        "cutoff": duration_text(int(managed.cutoff.total_seconds()), language)
        if managed.cutoff
        else None,
        "contact": {
            "phone": business.phone,
            "email": business.email,
            "name": business.display_name,
        },
        "can_move": managed.closed is None and managed.service is not None,
        "reschedule_url": f"/manage/{token}/reschedule",
        "cancel_url": f"/manage/{token}/cancel",
        "calendar_url": f"/manage/{token}/calendar.ics",
        "documents_url": f"/manage/{token}/documents",
        "rebook_url": f"/book/{business.id}/" if business.is_published else None,
        "notice": notice if notice in ("moved", "cancelled") else None,
        "reason": managed.appointment.cancellation_message,
    }
    return render(
        request,
        runtime,
        "manage.html",
        context,
        language=language,
        here=request.url.path,
        status_code=status,
    )


def _reschedule(
    request: Request,
    runtime: Runtime,
    managed: ManagedAppointment,
    token: str,
    zone: ConsumerZone,
    *,
    week: str | None = None,
    day: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    language = _language(request, managed)
    appointment = managed.appointment
    path = f"/manage/{token}/reschedule"
    params = {"tz": zone.name if zone.asked else None}
    service = managed.service
    if service is None:  # deleted since: there is no new time to offer
        return see_other(f"/manage/{token}")
    staff_id = appointment.staff_member_ids[0] if appointment.staff_member_ids else None
    step = slot_step(
        runtime,
        appointment.business_id,
        service.id,
        zone=zone,
        language=language,
        staff_id=staff_id,
        week=week,
        day=day,
        path=path,
        params=params,
        moving=appointment.id,
    )
    context = {
        "brand": brand_of(managed.business),
        "summary": _summary(managed, zone, language),
        "step": step,
        "step_path": path,
        "step_hidden": {"week": week, "day": day},
        "message": message,
        "slot_form": {
            "action": path,
            "method": "post",
            "hidden": {
                "tz": zone.name,
                "read_at": appointment.last_updated_date_time.isoformat(),
            },
        },
        "back": f"/manage/{token}",
    }
    return render(
        request,
        runtime,
        "reschedule.html",
        context,
        language=language,
        here=path,
        here_params={**params, "week": week, "day": day},
        status_code=status,
    )


def _change_refused(
    request: Request,
    runtime: Runtime,
    managed: ManagedAppointment,
    token: str,
    zone: ConsumerZone,
    start: datetime,
    refused: DomainError,
) -> Response:
    _ = gettext_for(_language(request, managed))
    fresh = _reread(runtime, token, managed)
    if refused.reason in SLOT_REASONS or refused.reason == "changedMeanwhile":
        message = (
            _("Sorry, that time is no longer free. Please choose another time.")
            if refused.reason in SLOT_REASONS
            else _(
                "Your appointment was changed in the meantime. Here it is as it stands now; "
                "please choose the new time again."
            )
        )
        if fresh.closed is None and fresh.service is not None:
            day = start.astimezone(zone.zone).date().isoformat()
            return _reschedule(
                request,
                runtime,
                fresh,
                token,
                zone,
                week=day,
                day=day,
                message=message,
                status=409,
            )
    return _manage(request, runtime, fresh, status=409)


def _cancel_form(
    request: Request,
    runtime: Runtime,
    managed: ManagedAppointment,
    token: str,
    message: str | None = None,
    reason: str = "",
    *,
    status: int = 200,
) -> Response:
    language = _language(request, managed)
    context = {
        "brand": brand_of(managed.business),
        "summary": _summary(managed, _zone(managed, None), language),
        "action": f"/manage/{token}/cancel",
        "back": f"/manage/{token}",
        "message": message,
        "reason": reason,
        "max_reason": MAX_CANCEL_REASON,
    }
    return render(
        request,
        runtime,
        "cancel.html",
        context,
        language=language,
        here=f"/manage/{token}/cancel",
        status_code=status,
    )
