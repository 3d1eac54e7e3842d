"""Custom questions a business asks customers when they book."""

from __future__ import annotations

from sqlalchemy.orm import Session

from openvisit.audit import actions
from openvisit.bookings.records import Changes, ResourceKind
from openvisit.bookings.services import forget_custom_question
from openvisit.bookings.views import CustomQuestionView
from openvisit.errors import InvalidInput
from openvisit.store.models import CustomQuestion


def _check_question(
    _session: Session, _business_id: str, changes: Changes, current: CustomQuestion | None
) -> None:
    """A radio-button question is unanswerable without options, on create and on update."""
    kind = changes.get("answer_input_type", current.answer_input_type if current else "text")
    options = changes.get("answer_options", current.answer_options if current else [])
    if kind == "radioButton" and not options:
        raise InvalidInput("answerOptionsRequired", target="answerOptions")


CUSTOM_QUESTIONS = ResourceKind(
    model=CustomQuestion,
    view=CustomQuestionView,
    label="custom question",
    actions=actions.CUSTOM_QUESTION,
    columns={
        "id": CustomQuestion.id,
        "displayName": CustomQuestion.display_name,
        "answerInputType": CustomQuestion.answer_input_type,
        "createdDateTime": CustomQuestion.created_date_time,
        "lastUpdatedDateTime": CustomQuestion.last_updated_date_time,
    },
    check=_check_question,
    on_delete=forget_custom_question,
)
