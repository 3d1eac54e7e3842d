"""What a published business shows on its booking page, and booking from that page.

The page is Graph's `publicUrl` (links.business_page_url). Only a published business has
one; it offers the services that are not hidden from customers, lets the consumer name a
provider only when the service's (else the business's) scheduling policy has
allowStaffSelection, and lists free times with the compact slot listing. A booking made
here goes through `appointments.book` with a customer's powers, the same path as the
REST API, so every rule (hours, lead time, overlap, required answers) holds the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.bookings.authority import Authority
from openvisit.bookings.availability import booking_policy, business_zone_name
from openvisit.bookings.customers import customer_for_booking
from openvisit.bookings.slot_listing import list_slot_counts
from openvisit.bookings.views import AppointmentView, BusinessView, ServiceView, snapshot
from openvisit.clock import Clock
from openvisit.errors import InvalidInput, NotFound
from openvisit.scheduling.intervals import Interval
from openvisit.store.booking_queries import staff_members
from openvisit.store.db import Database
from openvisit.store.models import Business, CustomQuestion, Service


@dataclass(frozen=True, slots=True)
class StaffChoice:
    id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Question:
    """One of the service's custom questions, as the consumer answers it."""

    id: str
    text: str
    input_type: str  # "text" or "radioButton"
    options: tuple[str, ...]
    required: bool


@dataclass(frozen=True, slots=True)
class OfferedService:
    service: ServiceView
    # Who the consumer may name; empty when the policy lets the business choose.
    staff: tuple[StaffChoice, ...]
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class BookingPage:
    business: BusinessView
    zone_name: str  # the business's zone: the page's default until the consumer's is known
    services: tuple[ServiceView, ...]


@dataclass(frozen=True)
class PageBooking:
    """What the consumer filled in. `answers` maps question id -> the answer (for a
    radio-button question, the option chosen)."""

    service_id: str
    start: datetime
    staff_id: str | None
    name: str
    email: str
    phone: str | None
    time_zone: str
    language: str
    answers: Mapping[str, str] = field(default_factory=dict)


def booking_page(db: Database, business_id: str) -> BookingPage:
    """The published business and the services it offers; NotFound otherwise."""
    with db.read() as session:
        return _page(session, _published(session, business_id))


def offered_service(
    db: Database, business_id: str, service_id: str
) -> tuple[BookingPage, OfferedService | None]:
    """The page and the service on it, or None for a service it does not offer (unknown,
    of another business, or hidden from customers): the page can then say so, branded."""
    with db.read() as session:
        business = _published(session, business_id)
        page = _page(session, business)
        service = next((item for item in page.services if item.id == service_id), None)
        if service is None:
            return page, None
        row = session.get(Service, service.id)
        if row is None:  # pragma: no cover - read in this same transaction
            return page, None
        return page, OfferedService(
            service=service,
            staff=_staff_choices(session, business, row),
            questions=_questions(session, business.id, row),
        )


def week_slots(
    db: Database,
    clock: Clock,
    business_id: str,
    service_id: str,
    *,
    first_day: date,
    days: int,
    zone: tzinfo,
    staff_id: str | None = None,
    moving: str | None = None,
) -> dict[date, tuple[datetime, ...]]:
    """Free starts (UTC) of the service on `days` days from `first_day`, the days read in
    the consumer's `zone`; every day of the range is a key, a day without times maps to ().
    `moving`: the appointment being rescheduled, whose own time counts as free."""
    window = Interval(
        datetime.combine(first_day, time(0), tzinfo=zone),
        datetime.combine(first_day + timedelta(days=days), time(0), tzinfo=zone),
    )
    listing = list_slot_counts(
        db, clock, business_id, service_id, window, staff_id=staff_id, exclude_appointment=moving
    )
    by_day: dict[date, list[datetime]] = {first_day + timedelta(days=n): [] for n in range(days)}
    for item in listing.starts:
        local_day = item.start.astimezone(zone).date()
        if local_day in by_day:
            by_day[local_day].append(item.start)
    return {day: tuple(starts) for day, starts in by_day.items()}


def book_on_page(
    db: Database,
    clock: Clock,
    business_id: str,
    booking: PageBooking,
    *,
    actor: str,
    idempotency_key: str,
) -> AppointmentView:
    """Book what the consumer chose, as a customer (no override), creating or reusing the
    business's customer with that e-mail. A retry of the same form (a double click) under
    the same key answers the first appointment again instead of booking twice."""
    with db.read() as session:
        business = _published(session, business_id)
        service = session.get(Service, booking.service_id)
        if service is None or service.business_id != business.id or _hidden(service):
            raise NotFound("serviceNotOffered", service=booking.service_id)
        staff_ids = _asked_staff(session, business, service, booking.staff_id)
        answers = _answers(_questions(session, business.id, service), booking.answers)
        business_id = business.id
    customer_id = customer_for_booking(
        db,
        clock,
        business_id,
        name=booking.name,
        email=booking.email,
        phone=booking.phone,
        actor=actor,
    )
    customer: dict[str, Any] = {
        "customerId": customer_id,
        "name": booking.name,
        "emailAddress": booking.email,
        "timeZone": booking.time_zone,
        "customQuestionAnswers": answers,
    }
    if booking.phone:
        customer["phone"] = booking.phone
    request = AppointmentRequest(
        service_id=booking.service_id,
        start=booking.start,
        staff_ids=staff_ids,
        customers=(customer,),
        customer_time_zone=booking.time_zone,
        customer_language=booking.language,
    )
    return book(
        db,
        clock,
        business_id,
        request,
        authority=Authority(actor=actor),
        idempotency_key=idempotency_key,
        fingerprint=_fingerprint(booking),
    )


def _published(session: Session, business_id: str) -> Business:
    # An id with U+0000 names nothing, and PostgreSQL refuses to even look it up.
    business = None if "\x00" in business_id else session.get(Business, business_id.lower())
    if business is None or not business.is_published:
        raise NotFound("bookingPageNotFound", business=business_id)
    return business


def _hidden(service: Service) -> bool:
    return bool(service.is_hidden_from_customers)


def _page(session: Session, business: Business) -> BookingPage:
    services = session.scalars(
        select(Service)
        .where(Service.business_id == business.id, Service.is_hidden_from_customers.is_(False))
        .order_by(Service.display_name, Service.id)
    ).all()
    return BookingPage(
        business=snapshot(BusinessView, business),
        zone_name=business_zone_name(business),
        services=tuple(snapshot(ServiceView, service) for service in services),
    )


def _staff_choices(
    session: Session, business: Business, service: Service
) -> tuple[StaffChoice, ...]:
    """The providers a consumer may name, in the service's order; none unless allowed."""
    if not booking_policy(service, business).allow_staff_selection:
        return ()
    wanted = list(dict.fromkeys(service.staff_member_ids or []))
    found = {member.id: member for member in staff_members(session, business.id, wanted)}
    ordered = (
        [found[staff_id] for staff_id in wanted if staff_id in found]
        if wanted
        else sorted(found.values(), key=lambda member: (member.created_date_time, member.id))
    )
    return tuple(StaffChoice(member.id, member.display_name) for member in ordered)


def _asked_staff(
    session: Session, business: Business, service: Service, staff_id: str | None
) -> tuple[str, ...]:
    if not staff_id:
        return ()
    if staff_id not in {choice.id for choice in _staff_choices(session, business, service)}:
        raise InvalidInput("staffNotOffered", target="staff", staff=staff_id)
    return (staff_id,)


def _questions(session: Session, business_id: str, service: Service) -> tuple[Question, ...]:
    assigned = list(service.custom_questions or [])
    ids = [item["questionId"] for item in assigned]
    if not ids:
        return ()
    rows = {
        row.id: row
        for row in session.scalars(
            select(CustomQuestion).where(
                CustomQuestion.business_id == business_id, CustomQuestion.id.in_(ids)
            )
        )
    }
    return tuple(
        Question(
            id=item["questionId"],
            text=rows[item["questionId"]].display_name,
            input_type=rows[item["questionId"]].answer_input_type,
            options=tuple(rows[item["questionId"]].answer_options or ()),
            required=bool(item.get("isRequired")),
        )
        for item in assigned
        if item["questionId"] in rows
    )


def _answers(questions: tuple[Question, ...], given: Mapping[str, str]) -> list[dict[str, Any]]:
    """Graph bookingQuestionAnswers for the service's questions (others are dropped); the
    booking service refuses a missing required answer itself (answerRequired)."""
    answers = []
    for question in questions:
        text = (given.get(question.id) or "").strip()
        if not text:
            continue
        answer: dict[str, Any] = {
            "questionId": question.id,
            "question": question.text,
            "answerInputType": question.input_type,
            "isRequired": question.required,
            "answer": text,
        }
        if question.input_type == "radioButton":
            if text not in question.options:
                continue  # not one of the options: as good as unanswered
            answer["answerOptions"] = list(question.options)
            answer["selectedOptions"] = [text]
        answers.append(answer)
    return answers


def _fingerprint(booking: PageBooking) -> str:
    values = asdict(booking)
    values["start"] = booking.start.isoformat()
    values["answers"] = dict(booking.answers)
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
