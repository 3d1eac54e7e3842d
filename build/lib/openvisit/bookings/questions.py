"""Custom questions a business asks customers when they book."""

from __future__ import annotations

from openvisit.bookings.records import ResourceKind
from openvisit.store.models import CustomQuestion

CUSTOM_QUESTIONS = ResourceKind(
    model=CustomQuestion,
    label="custom question",
    action_prefix="openvisit.customQuestion",
    columns={
        "id": CustomQuestion.id,
        "displayName": CustomQuestion.display_name,
        "answerInputType": CustomQuestion.answer_input_type,
        "createdDateTime": CustomQuestion.created_date_time,
        "lastUpdatedDateTime": CustomQuestion.last_updated_date_time,
    },
)
