"""Booking services (what a customer books): checks that span records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit.audit import actions
from openvisit.bookings.document_store import forget_service_files
from openvisit.bookings.records import Changes, ResourceKind
from openvisit.bookings.views import ServiceView
from openvisit.errors import InvalidInput
from openvisit.store.models import CustomQuestion, Service, StaffMember


def _check_service(
    session: Session, business_id: str, changes: Changes, _current: Service | None
) -> None:
    staff_ids = changes.get("staff_member_ids") or []
    if staff_ids:
        found = set(
            session.scalars(
                select(StaffMember.id).where(
                    StaffMember.business_id == business_id, StaffMember.id.in_(staff_ids)
                )
            )
        )
        missing = [staff_id for staff_id in staff_ids if staff_id not in found]
        if missing:
            raise InvalidInput("unknownStaff", target="staffMemberIds", staff=missing[0])
    question_ids = [item["questionId"] for item in changes.get("custom_questions") or []]
    if question_ids:
        found = set(
            session.scalars(
                select(CustomQuestion.id).where(
                    CustomQuestion.business_id == business_id, CustomQuestion.id.in_(question_ids)
                )
            )
        )
        missing = [question_id for question_id in question_ids if question_id not in found]
        if missing:
            raise InvalidInput("unknownQuestion", target="customQuestions", question=missing[0])


def forget_staff_member(session: Session, business_id: str, staff_id: str) -> None:
    """Take a deleted staff member out of every service that listed them.

    Otherwise a client that reads a service and writes staffMemberIds back unchanged
    would be refused for naming someone who no longer exists.
    """
    for service in _services(session, business_id):
        if staff_id in service.staff_member_ids:
            service.staff_member_ids = [i for i in service.staff_member_ids if i != staff_id]


def forget_custom_question(session: Session, business_id: str, question_id: str) -> None:
    """Take a deleted custom question out of every service that asked it."""
    for service in _services(session, business_id):
        kept = [item for item in service.custom_questions if item["questionId"] != question_id]
        if len(kept) != len(service.custom_questions):
            service.custom_questions = kept


def _services(session: Session, business_id: str) -> list[Service]:
    return list(session.scalars(select(Service).where(Service.business_id == business_id)))


SERVICES = ResourceKind(
    model=Service,
    view=ServiceView,
    label="service",
    actions=actions.SERVICE,
    columns={
        "id": Service.id,
        "displayName": Service.display_name,
        "description": Service.description,
        "defaultPrice": Service.default_price,
        "defaultPriceType": Service.default_price_type,
        "isHiddenFromCustomers": Service.is_hidden_from_customers,
        "isLocationOnline": Service.is_location_online,
        "maximumAttendeesCount": Service.maximum_attendees_count,
        "smsNotificationsEnabled": Service.sms_notifications_enabled,
        "languageTag": Service.language_tag,
        "createdDateTime": Service.created_date_time,
        "lastUpdatedDateTime": Service.last_updated_date_time,
    },
    check=_check_service,
    files=forget_service_files,
)
