"""The booking page: /book/{businessId}/ (Graph's publicUrl) and a service's steps.

1. `/book/{id}/`: the services the business offers.
2. `/book/{id}/services/{serviceId}` (Graph's webUrl): provider ("anyone" or a named one,
   when the policy allows staff selection), time zone, a week of days, one day's times.
3. `.../details`: name, e-mail, phone, the service's questions, consent; POST books.
4. A 303 to the confirmation page behind the new appointment's manage link.

Each step is a plain GET or POST form. A POST counts against the client address's rate
limit, carries the anonymous CSRF token and a honeypot field, and books through
bookings.booking_page (the booking service the API uses). A time taken meanwhile shows
the slot step again with fresh times, never an error page.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.datastructures import FormData

from openvisit.bookings.booking_page import (
    BookingPage,
    OfferedService,
    PageBooking,
    book_on_page,
    booking_page,
    offered_service,
)
from openvisit.bookings.manage_links import manage_token_for
from openvisit.errors import Conflict, DomainError, InvalidInput, NotFound, RetryLater
from openvisit.phones import region_of
from openvisit.runtime import Runtime
from openvisit.web.consumer import brand
from openvisit.web.consumer.common import (
    SLOT_REASONS,
    duration_text,
    not_found,
    price_text,
    retry_later,
    summary,
    throttled,
)
from openvisit.web.consumer.forms import DetailsForm, FieldError, answer_field, read_details
from openvisit.web.consumer.forms import valid_key as valid_form_key
from openvisit.web.consumer.rendering import (
    brand_of,
    csrf_ok,
    gettext_for,
    page_language,
    render,
    with_query,
)
from openvisit.web.consumer.slots import parse_start, slot_step, utc_value
from openvisit.web.consumer.zones import ConsumerZone, consumer_zone
from openvisit.web.deps import ClientDep, RuntimeDep
from openvisit.web.rendering import PageRoute, see_other

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False, route_class=PageRoute)
ANYONE = "anyone"
OptionalQuery = Annotated[str | None, Query(max_length=64)]


async def form_data(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


@router.get("/book/{business_id}/")
def business_page(request: Request, runtime: RuntimeDep, business_id: str) -> Response:
    try:
        page = booking_page(runtime.db, business_id)
    except NotFound:
        return not_found(request, runtime)
    business = page.business
    language = page_language(request, business.language_tag)
    services = [
        {
            "name": service.display_name,
            "description": service.description,
            "duration": duration_text(service.default_duration_seconds, language),
            "price": price_text(service, business.default_currency_iso, language),
            "url": f"/book/{business.id}/services/{service.id}",
        }
        for service in page.services
    ]
    context = {"brand": brand_of(business), "services": services}
    return render(
        request,
        runtime,
        "business.html",
        context,
        language=language,
        here=f"/book/{business.id}/",
    )


@router.get("/book/{business_id}/brand.css")
def brand_stylesheet(runtime: RuntimeDep, business_id: str) -> Response:
    """The business's colours as custom properties (an unknown business: the defaults)."""
    try:
        settings = booking_page(runtime.db, business_id).business.booking_page_settings
    except NotFound:
        settings = None
    response = PlainTextResponse(
        brand.stylesheet(brand.brand_color(settings)), media_type="text/css"
    )
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@router.get("/book/{business_id}/services/{service_id}")
def service_page(
    request: Request,
    runtime: RuntimeDep,
    business_id: str,
    service_id: str,
    staff: OptionalQuery = None,
    tz: OptionalQuery = None,
    week: OptionalQuery = None,
    day: OptionalQuery = None,
) -> Response:
    found = _offered(request, runtime, business_id, service_id)
    if isinstance(found, Response):
        return found
    page, offered = found
    language = page_language(request, page.business.language_tag)
    zone = consumer_zone(tz, page.zone_name)
    return _slot_page(
        request, runtime, page, offered, language, zone, staff=staff, week=week, day=day
    )


@router.get("/book/{business_id}/services/{service_id}/details")
def details_page(
    request: Request,
    runtime: RuntimeDep,
    business_id: str,
    service_id: str,
    start: OptionalQuery = None,
    staff: OptionalQuery = None,
    tz: OptionalQuery = None,
) -> Response:
    found = _offered(request, runtime, business_id, service_id)
    if isinstance(found, Response):
        return found
    page, offered = found
    zone = consumer_zone(tz, page.zone_name)
    when = parse_start(start)
    if when is None:  # no time chosen yet (or a mangled link): back to the times
        return see_other(_step_url(page, offered, staff=staff, zone=zone))
    language = page_language(request, page.business.language_tag)
    form = DetailsForm(key=secrets.token_urlsafe(24))
    return _details(request, runtime, page, offered, language, zone, when, staff, form)


@router.post("/book/{business_id}/services/{service_id}/details")
def book(
    request: Request,
    runtime: RuntimeDep,
    client: ClientDep,
    business_id: str,
    service_id: str,
    form: FormDep,
) -> Response:
    found = _offered(request, runtime, business_id, service_id)
    if isinstance(found, Response):
        return found
    page, offered = found
    back = f"/book/{page.business.id}/services/{offered.service.id}"
    limited = throttled(request, runtime, client.address, business=page.business, back=back)
    if limited is not None:
        return limited
    language = page_language(request, page.business.language_tag)
    _ = gettext_for(language)
    zone = consumer_zone(_field(form, "tz"), page.zone_name)
    staff = _field(form, "staff") or None
    when = parse_start(_field(form, "start"))
    if when is None:
        message = _("Choose a time for your appointment.")
        return _slot_page(
            request,
            runtime,
            page,
            offered,
            language,
            zone,
            staff=staff,
            message=message,
            status=400,
        )
    settings = page.business.booking_page_settings or {}
    details = read_details(
        form,
        offered.questions,
        _,
        region=region_of((page.business.address or {}).get("countryOrRegion")),
        consent_required=bool(settings.get("isCustomerConsentEnabled")),
    )
    if not valid_form_key(details.key):
        details.key = secrets.token_urlsafe(24)
    if not csrf_ok(request, runtime, _field(form, "csrf_token")):
        details.errors.insert(
            0, FieldError("name", _("This form has expired. Please check it and send it again."))
        )
        return _details(request, runtime, page, offered, language, zone, when, staff, details, 400)
    if details.honeypot:
        return _honeypot(request, runtime, page, offered, language, zone, when, client.address)
    if details.errors:
        return _details(request, runtime, page, offered, language, zone, when, staff, details, 400)
    booking = PageBooking(
        service_id=offered.service.id,
        start=when,
        staff_id=None if staff in (None, ANYONE) else staff,
        name=details.name,
        email=details.email,
        phone=details.phone or None,
        time_zone=zone.name,
        language=language,
        answers=details.answers,
    )
    try:
        appointment = book_on_page(
            runtime.db,
            runtime.clock,
            page.business.id,
            booking,
            actor=f"bookingPage:{client.address or 'unknown'}",
            idempotency_key=f"bookingPage:{details.key}",
        )
    except NotFound:
        return not_found(request, runtime, business=page.business)
    except RetryLater as refused:
        return retry_later(request, runtime, refused, business=page.business, back=back)
    except DomainError as refused:
        return _refused(
            request, runtime, page, offered, language, zone, when, staff, details, refused
        )
    return see_other(f"/manage/{manage_token_for(runtime.secret_key, appointment)}/booked")


def _offered(
    request: Request, runtime: Runtime, business_id: str, service_id: str
) -> tuple[BookingPage, OfferedService] | Response:
    try:
        page, offered = offered_service(runtime.db, business_id, service_id)
    except NotFound:
        return not_found(request, runtime)
    if offered is None:
        language = page_language(request, page.business.language_tag)
        _ = gettext_for(language)
        message = _("This service cannot be booked here.")
        return not_found(request, runtime, business=page.business, message=message)
    return page, offered


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip()[:64] if isinstance(value, str) else ""


def _staff_id(offered: OfferedService, staff: str | None) -> str | None:
    """The provider asked for, if the consumer may name one and it is one; else anyone."""
    return staff if staff in {choice.id for choice in offered.staff} else None


def _step_url(
    page: BookingPage, offered: OfferedService, *, staff: str | None, zone: ConsumerZone
) -> str:
    path = f"/book/{page.business.id}/services/{offered.service.id}"
    return with_query(
        path, {"staff": _staff_id(offered, staff), "tz": zone.name if zone.asked else None}
    )


def _slot_page(
    request: Request,
    runtime: Runtime,
    page: BookingPage,
    offered: OfferedService,
    language: str,
    zone: ConsumerZone,
    *,
    staff: str | None,
    week: str | None = None,
    day: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    path = f"/book/{page.business.id}/services/{offered.service.id}"
    staff_id = _staff_id(offered, staff)
    params = {"staff": staff_id, "tz": zone.name if zone.asked else None}
    step = slot_step(
        runtime,
        page.business.id,
        offered.service.id,
        zone=zone,
        language=language,
        staff_id=staff_id,
        week=week,
        day=day,
        path=path,
        params=params,
    )
    context: dict[str, Any] = {
        "brand": brand_of(page.business),
        "service": offered.service,
        "duration": duration_text(offered.service.default_duration_seconds, language),
        "staff_choices": offered.staff,
        "staff_selected": staff_id or ANYONE,
        "step": step,
        "step_path": path,
        "step_hidden": {"staff": staff_id, "week": week, "day": day},
        "message": message,
        "slot_form": {
            "action": f"{path}/details",
            "method": "get",
            "hidden": {"staff": staff_id or "", "tz": zone.name},
        },
        "back": f"/book/{page.business.id}/",
    }
    return render(
        request,
        runtime,
        "service.html",
        context,
        language=language,
        here=path,
        here_params={**params, "week": week, "day": day},
        status_code=status,
    )


def _details(
    request: Request,
    runtime: Runtime,
    page: BookingPage,
    offered: OfferedService,
    language: str,
    zone: ConsumerZone,
    when: datetime,
    staff: str | None,
    form: DetailsForm,
    status: int = 200,
) -> Response:
    staff_id = _staff_id(offered, staff)
    names = [choice.display_name for choice in offered.staff if choice.id == staff_id]
    service = offered.service
    path = f"/book/{page.business.id}/services/{service.id}"
    settings = page.business.booking_page_settings or {}
    questions = [
        {
            "field": answer_field(index),
            "question": question,
            "value": form.answers.get(question.id, ""),
            "error": form.error_for(answer_field(index)),
        }
        for index, question in enumerate(offered.questions)
    ]
    context = {
        "brand": brand_of(page.business),
        "summary": summary(
            service_name=service.display_name,
            start=when,
            end=when + _length(offered),
            zone=zone,
            language=language,
            staff=names,
            anyone=bool(offered.staff),
        ),
        "form": form,
        "questions": questions,
        "consent": bool(settings.get("isCustomerConsentEnabled")),
        "consent_message": settings.get("customerConsentMessage"),
        "privacy_url": settings.get("privacyPolicyWebUrl"),
        "terms_url": settings.get("termsAndConditionsWebUrl"),
        "action": f"{path}/details",
        "hidden": {
            "start": utc_value(when),
            "staff": staff_id or "",
            "tz": zone.name,
            "booking_key": form.key,
        },
        "change_url": _step_url(page, offered, staff=staff, zone=zone),
    }
    here_params = {"start": utc_value(when), "staff": staff_id, "tz": zone.name}
    return render(
        request,
        runtime,
        "details.html",
        context,
        language=language,
        here=f"{path}/details",
        here_params=here_params,
        status_code=status,
    )


def _length(offered: OfferedService) -> timedelta:
    return timedelta(seconds=offered.service.default_duration_seconds)


def _refused(
    request: Request,
    runtime: Runtime,
    page: BookingPage,
    offered: OfferedService,
    language: str,
    zone: ConsumerZone,
    when: datetime,
    staff: str | None,
    details: DetailsForm,
    refused: DomainError,
) -> Response:
    """A booking the service refused: fresh times for a lost slot, else the form again."""
    _ = gettext_for(language)
    if refused.reason in SLOT_REASONS:
        message = _("Sorry, that time is no longer free. Please choose another time.")
        day = when.astimezone(zone.zone).date().isoformat()
        return _slot_page(
            request,
            runtime,
            page,
            offered,
            language,
            zone,
            staff=staff,
            day=day,
            week=day,
            message=message,
            status=409,
        )
    if refused.reason == "idempotencyKeyReused":
        details.key = secrets.token_urlsafe(24)
        message = _(
            "This form was already sent with other details. Please check them and send it again."
        )
    else:  # what the form checks already (a required answer, say), refused by the service
        message = _("Please check your details and send them again.")
    details.errors.insert(0, FieldError("name", message))
    status = (
        409
        if isinstance(refused, Conflict)
        else 400
        if isinstance(refused, InvalidInput)
        else refused.status
    )
    return _details(request, runtime, page, offered, language, zone, when, staff, details, status)


def _honeypot(
    request: Request,
    runtime: Runtime,
    page: BookingPage,
    offered: OfferedService,
    language: str,
    zone: ConsumerZone,
    when: datetime,
    address: str | None,
) -> Response:
    """A form whose hidden field was filled in: a person never sees that field, a bot
    fills every field. It gets a page that looks booked and books nothing."""
    logger.warning(
        "booking page honeypot filled: business=%s address=%s", page.business.id, address
    )
    context = {
        "brand": brand_of(page.business),
        "summary": summary(
            service_name=offered.service.display_name,
            start=when,
            end=when + _length(offered),
            zone=zone,
            language=language,
        ),
        "calendar_url": None,
        "manage_url": None,
    }
    return render(
        request,
        runtime,
        "booked.html",
        context,
        language=language,
        here=f"/book/{page.business.id}/",
    )
