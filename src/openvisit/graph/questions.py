"""/bookingBusinesses/{id}/customQuestions: bookingCustomQuestion."""

from typing import Annotated, Any, Literal

from fastapi import Request
from pydantic import Field, field_validator

from openvisit.auth import access
from openvisit.bookings.questions import CUSTOM_QUESTIONS
from openvisit.bookings.views import CustomQuestionView
from openvisit.graph.changes import body_changes, require
from openvisit.graph.children import ChildApi, child_router
from openvisit.graph.responses import timestamp
from openvisit.graph.schemas.types import GraphModel, Name, ShortText


class BookingCustomQuestionBody(GraphModel):
    display_name: Name | None = Field(default=None, description="Required on create.")
    answer_input_type: Literal["text", "radioButton", "unknownFutureValue"] | None = None
    answer_options: Annotated[list[ShortText], Field(max_length=50)] | None = None

    @field_validator("answer_options")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("answer options must be distinct")
        return value


class BookingCustomQuestionOut(BookingCustomQuestionBody):
    id: str
    created_date_time: str | None = None
    last_updated_date_time: str | None = None


class BookingCustomQuestionCollection(GraphModel):
    value: list[BookingCustomQuestionOut]


NOT_NULL = frozenset({"display_name", "answer_input_type", "answer_options"})


def question_json(question: CustomQuestionView, _request: Request) -> dict[str, Any]:
    return {
        "id": question.id,
        "displayName": question.display_name,
        "answerInputType": question.answer_input_type,
        "answerOptions": list(question.answer_options),
        "createdDateTime": timestamp(question.created_date_time),
        "lastUpdatedDateTime": timestamp(question.last_updated_date_time),
    }


def question_changes(body: BookingCustomQuestionBody, creating: bool) -> dict[str, Any]:
    if creating:
        require(body, "display_name")
    return body_changes(body, not_null=NOT_NULL)


QUESTION_API = ChildApi(
    kind=CUSTOM_QUESTIONS,
    segment="customQuestions",
    tag="bookingCustomQuestion",
    odata_type=None,
    body_model=BookingCustomQuestionBody,
    out_model=BookingCustomQuestionOut,
    collection_model=BookingCustomQuestionCollection,
    to_json=question_json,
    to_changes=question_changes,
    read_operation=access.QUESTION_READ,
    write_operation=access.QUESTION_WRITE,
    update_returns_body=True,
)
router = child_router(QUESTION_API)
