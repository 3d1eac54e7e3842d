"""The links a consumer is sent: the manage link (view, reschedule, cancel, documents).

One policy for every place that hands one out (confirmation page, e-mail, SMS, .ics), so
they agree on the URL and on how long it works: until 30 days after the appointment
ends, long enough to download a summary or book again, short enough that an old e-mail
is not a key forever. Raising the appointment's `link_version` revokes all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from openvisit import link_tokens

MANAGE = "manage"
MANAGE_VALID_AFTER_END = timedelta(days=30)


def manage_token(secret_key: str, appointment_id: str, *, version: int, end: datetime) -> str:
    return link_tokens.sign(
        secret_key, MANAGE, appointment_id, version=version, expires_at=end + MANAGE_VALID_AFTER_END
    )


def manage_url(base_url: str, token: str) -> str:
    return f"{base_url}/manage/{token}"


def calendar_url(base_url: str, token: str) -> str:
    """The appointment's .ics ("Add to calendar"), behind the same capability."""
    return f"{manage_url(base_url, token)}/calendar.ics"


def documents_url(base_url: str, token: str) -> str:
    """The appointment's documents page: prerequisites to read, uploads to send."""
    return f"{manage_url(base_url, token)}/documents"


def document_url(base_url: str, token: str, document_id: str) -> str:
    """One document's download, for the consumer holding the appointment's manage link."""
    return f"{documents_url(base_url, token)}/{document_id}"


def business_page_url(base_url: str, business_id: str) -> str:
    """A published business's booking page (Graph's `publicUrl`), where one books again."""
    return f"{base_url}/book/{business_id}/"
