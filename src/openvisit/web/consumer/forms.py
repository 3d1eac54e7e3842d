"""The details form of a booking: read, checked field by field, in the consumer's words.

The booking service checks again what it must (required answers, the slot, the staff);
this is where a person learns which field to fix, with a link to it from the error
summary. E-mail goes through emails.py, phone through phones.py (E.164, read in the
business's country when written without a country code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from openvisit.bookings.booking_page import Question
from openvisit.emails import InvalidEmail, normalized_email
from openvisit.phones import InvalidPhone, normalized_phone
from openvisit.web.consumer.rendering import Translate

MAX_NAME = 255
MAX_EMAIL = 320
MAX_PHONE = 64
MAX_ANSWER = 2000
# The form's own random key: letters, digits, - and _ (secrets.token_urlsafe).
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
HONEYPOT = "website"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # the id of the input, the error summary's link target
    message: str


@dataclass
class DetailsForm:
    name: str = ""
    email: str = ""
    phone: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    consent: bool = False
    honeypot: str = ""
    key: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def error_for(self, field_id: str) -> str | None:
        return next((item.message for item in self.errors if item.field == field_id), None)


def answer_field(index: int) -> str:
    return f"answer-{index}"


def text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def valid_key(value: str) -> bool:
    return bool(_KEY.match(value))


def read_details(
    form: FormData,
    questions: tuple[Question, ...],
    _: Translate,
    *,
    region: str | None,
    consent_required: bool,
) -> DetailsForm:
    """The form's values, normalised, and an error for each field that needs fixing."""
    details = DetailsForm(
        name=text(form, "name", MAX_NAME),
        email=text(form, "email", MAX_EMAIL),
        phone=text(form, "phone", MAX_PHONE),
        consent=form.get("consent") == "yes",
        honeypot=text(form, HONEYPOT, MAX_NAME),
        key=text(form, "booking_key", 64),
    )
    if not details.name:
        details.errors.append(FieldError("name", _("Enter your name.")))
    _check_email(details, _)
    _check_phone(details, _, region)
    for index, question in enumerate(questions):
        answer = text(form, answer_field(index), MAX_ANSWER)
        if answer:
            details.answers[question.id] = answer
        if question.input_type == "radioButton" and answer and answer not in question.options:
            details.errors.append(FieldError(answer_field(index), _("Choose one of the options.")))
        elif question.required and not answer:
            details.errors.append(FieldError(answer_field(index), _("Answer this question.")))
    if consent_required and not details.consent:
        details.errors.append(FieldError("consent", _("Agree to the terms to book.")))
    return details


def _check_email(details: DetailsForm, _: Translate) -> None:
    if not details.email:
        details.errors.append(FieldError("email", _("Enter your e-mail address.")))
        return
    try:
        details.email = normalized_email(details.email)
    except InvalidEmail:
        details.errors.append(
            FieldError("email", _("Enter an e-mail address like name@example.com."))
        )


def _check_phone(details: DetailsForm, _: Translate, region: str | None) -> None:
    if not details.phone:
        return
    try:
        details.phone = normalized_phone(details.phone, region)
    except InvalidPhone:
        details.errors.append(
            FieldError(
                "phone", _("Enter a phone number with its country code, like +1 212 555 0100.")
            )
        )
