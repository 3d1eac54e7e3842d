"""The booking rules that do not depend on other bookings, and the audit of overrides.

Length and span, seats, required answers, customers of the business, the change cutoff;
and, for a caller who asked to override, which hours and policy rules were set aside.
Whether the staff are free is `staffing`'s question.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.bookings.appointments.request import AppointmentRequest
from openvisit.bookings.authority import Authority
from openvisit.bookings.availability import bookable_time, booking_policy, service_spec
from openvisit.errors import Conflict, InvalidInput
from openvisit.scheduling.booking import refusal
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.slots import ServiceSpec
from openvisit.store.models import Appointment, Business, Customer, Service, StaffMember

MAX_SPAN = timedelta(days=1)


def shape(service: Service, request: AppointmentRequest) -> tuple[ServiceSpec, datetime, datetime]:
    """The service's spec with the request's buffers, and the start and end it asks for."""
    spec = service_spec(service)
    if request.pre_buffer is not None or request.post_buffer is not None:
        spec = replace(
            spec,
            pre_buffer=spec.pre_buffer if request.pre_buffer is None else request.pre_buffer,
            post_buffer=spec.post_buffer if request.post_buffer is None else request.post_buffer,
        )
    start = request.start
    end = request.end or start + spec.duration
    if end <= start:
        raise InvalidInput(
            "endBeforeStart", target="endDateTime", name="endDateTime", start="startDateTime"
        )
    if end - start > MAX_SPAN:
        raise InvalidInput("appointmentTooLong", target="endDateTime")
    return spec, start, end


def stored_customers(
    session: Session, business_id: str, customers: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Customers as stored; a customerId must name a customer of this business."""
    stored = []
    for index, item in enumerate(customers):
        customer_id = item.get("customerId")
        if customer_id:
            record = session.get(Customer, customer_id)
            if record is None or record.business_id != business_id:
                raise InvalidInput(
                    "unknownCustomer", target="customerId", index=index, customer=customer_id
                )
            stored.append(
                {"name": record.display_name, "emailAddress": record.email_address, **item}
            )
        else:
            stored.append(dict(item))
    return stored


def seats_for(spec: ServiceSpec, customers: Sequence[Mapping[str, Any]]) -> int:
    """Seats the customers take; more than the service has at all is the caller's error."""
    if spec.capacity > 1 and len(customers) > spec.capacity:
        raise InvalidInput(
            "tooManyCustomers", target="customers", capacity=spec.capacity, count=len(customers)
        )
    return max(len(customers), 1) if spec.capacity > 1 else 1


def check_change_cutoff(
    session: Session, appointment: Appointment, authority: Authority, now: datetime
) -> str | None:
    """Reschedule and cancel close the service's changeCutoff before the start.

    Graph has no such policy; without one a customer could cancel a minute before a
    consultation the provider has prepared for. A caller who asked to override the
    booking rules (and may) still changes it: then the rule set aside is returned.
    """
    service = session.get(Service, appointment.service_id) if appointment.service_id else None
    cutoff = timedelta(seconds=service.change_cutoff_seconds if service else 0)
    if now <= appointment.start_date_time - cutoff:
        return None
    closed = "once it has started" if not cutoff else f"within {cutoff} of its start"
    if not authority.override_hours:
        raise Conflict("changeCutoffPassed", closed=closed)
    return f"it is changed {closed}"


def check_answers(service: Service, customers: Sequence[Mapping[str, Any]]) -> None:
    """Every customer answers every question the service marks as required."""
    required = [item["questionId"] for item in service.custom_questions if item.get("isRequired")]
    for index, customer in enumerate(customers):
        answered = {
            answer.get("questionId")
            for answer in customer.get("customQuestionAnswers") or []
            if (answer.get("answer") or "").strip() or answer.get("selectedOptions")
        }
        for question_id in required:
            if question_id not in answered:
                raise InvalidInput(
                    "answerRequired",
                    target="customQuestionAnswers",
                    index=index,
                    question=question_id,
                )


def overridden_rules(
    business: Business,
    service: Service,
    spec: ServiceSpec,
    staff: Sequence[StaffMember],
    start: datetime,
    end: datetime,
    authority: Authority,
    now: datetime,
) -> tuple[str, ...]:
    """The hours and policy rules an override set aside for the chosen staff (audited).

    Runs only for a caller who asked to override, so the plain booking path pays nothing;
    overlap was already checked, so only hours and policy can show up here.
    """
    if not authority.override_hours:
        return ()
    reach = Interval(start - spec.pre_buffer - MAX_SPAN, end + spec.post_buffer + MAX_SPAN)
    policy = booking_policy(service, business)
    reasons = (
        (
            member,
            refusal(
                spec,
                start,
                end,
                [],
                working=bookable_time(member, business, reach),
                policy=policy,
                now=now,
            ),
        )
        for member in staff
    )
    outside = tuple(
        f"{member.display_name}: does not provide this service"
        for member in staff
        if service.staff_member_ids and member.id not in service.staff_member_ids
    )
    return outside + tuple(
        f"{member.display_name}: {reason}" for member, reason in reasons if reason
    )


def override_row(
    authority: Authority,
    appointment_id: str,
    business_id: str,
    rules: Sequence[str],
    now: datetime,
) -> dict[str, Any]:
    """The audit row naming who set aside which booking rules for which appointment."""
    return audit.row(
        Action.APPOINTMENT_RULES_OVERRIDDEN,
        actor=authority.actor,
        subject=appointment_id,
        at=now,
        data={"businessId": business_id, "rules": list(rules)},
    )
