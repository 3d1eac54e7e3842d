"""Annotated field types that validate at the edge and echo back what the client wrote."""

from __future__ import annotations

import math
from datetime import time, timedelta
from typing import Annotated, Any

import phonenumbers
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel

from openvisit.bookings.currencies import is_currency
from openvisit.bookings.timezones import UnknownTimeZone, check_time_zone
from openvisit.emails import InvalidEmail, normalized_email
from openvisit.scheduling.isotime import (
    InvalidIsoValue,
    format_duration,
    format_time_of_day,
    parse_duration,
    parse_time_of_day,
)

NAME_MAX = 255
TEXT_MAX = 10_000
EMAIL_MAX = 320
URL_MAX = 2048
# Numbers written without +country code are read as North American ones.
DEFAULT_PHONE_REGION = "US"


class GraphModel(BaseModel):
    """camelCase on the wire; unknown properties and @odata annotations are ignored.

    JSON types are taken as sent, as Graph's OData reader does ("true" is no boolean,
    "5" no number), NaN and Infinity are refused, and so is U+0000 anywhere in text:
    PostgreSQL cannot store it.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        strict=True,
        allow_inf_nan=False,
    )

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("must not contain the NUL character (U+0000)")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False  # nested models check their own fields


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 duration string such as PT30M")
    try:
        parsed = parse_duration(value)
    except InvalidIsoValue as error:
        raise ValueError(str(error)) from error
    except OverflowError as error:  # beyond timedelta's ~2.7 million years
        raise ValueError(f"'{value}' is too long a duration") from error
    if parsed < timedelta(0):
        raise ValueError("must not be negative")
    if parsed.microseconds:  # stored as whole seconds; refuse rather than round silently
        raise ValueError("must be a whole number of seconds")
    return parsed


def _time_of_day(value: Any) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a time of day string such as 08:00:00.0000000")
    try:
        return parse_time_of_day(value)
    except InvalidIsoValue as error:
        raise ValueError(str(error)) from error


def duration_at_most(limit: timedelta, *, positive: bool = False) -> AfterValidator:
    def check(value: timedelta) -> timedelta:
        if value > limit:
            raise ValueError(f"must be at most {format_duration(limit)}")
        if positive and value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    return AfterValidator(check)


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "format": "duration", "examples": ["PT30M"]}),
]
TimeOfDay = Annotated[
    time,
    BeforeValidator(_time_of_day),
    PlainSerializer(format_time_of_day, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$",
            "examples": ["08:00:00.0000000"],
        }
    ),
]


def _zone(value: str) -> str:
    try:
        return check_time_zone(value)
    except UnknownTimeZone as error:
        raise ValueError(str(error)) from error


def _email(value: str) -> str:
    try:
        normalized_email(value)
    except InvalidEmail as error:
        raise ValueError(str(error)) from error
    return value


def _phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"'{value}' is not a phone number") from error
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"'{value}' is not a possible phone number")
    return value


_URL = TypeAdapter(AnyHttpUrl)


def _url(value: str) -> str:
    try:
        _URL.validate_python(value)
    except ValidationError as error:
        raise ValueError(f"'{value}' is not an http(s) URL") from error
    return value


def _currency(value: str) -> str:
    if not is_currency(value):
        raise ValueError(f"'{value}' is not an ISO 4217 currency code such as USD")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


_LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
Text = Annotated[str, Field(max_length=TEXT_MAX)]
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_zone)]
EmailAddress = Annotated[str, Field(max_length=EMAIL_MAX), AfterValidator(_email)]
PhoneNumber = Annotated[str, Field(max_length=64), AfterValidator(_phone)]
WebUrl = Annotated[str, Field(max_length=URL_MAX), AfterValidator(_url)]
CurrencyCode = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_currency)]
LanguageTag = Annotated[str, Field(max_length=35, pattern=_LANGUAGE_TAG)]
Money = Annotated[float, Field(ge=0, le=1_000_000_000), AfterValidator(_finite)]
HexColor = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
ShortText = Annotated[str, Field(max_length=NAME_MAX)]
