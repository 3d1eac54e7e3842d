"""How the consumer's documents page reads: its texts, in the reader's language.

Refusals are told in the reader's words from the reason they were raised with
(openvisit/reasons.py holds the API's English ones); sizes, dates and times are
formatted by Babel for the language, in the zone the consumer reads times in.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import jinja2
from babel.numbers import format_decimal
from fastapi import Response
from fastapi.responses import HTMLResponse

from openvisit import consumer_links, i18n
from openvisit.bookings.document_rows import DocumentView
from openvisit.bookings.document_store import describe_bytes
from openvisit.bookings.linked_documents import LinkedDocuments
from openvisit.bookings.timezones import UnknownTimeZone, resolve_zone
from openvisit.errors import DomainError
from openvisit.web.rendering import TEMPLATES_DIR


def _(text: str) -> str:
    """Marks a text for the catalog (scripts/translations); translated when shown."""
    return text


STALE_FORM = _("This form has expired. Please try again.")
UNREADABLE_FORM = _("The form could not be read. Please choose the file again.")
REFUSALS: Mapping[str, str] = {
    "documentTooLarge": _("The file is larger than %(limit)s, the most that can be sent."),
    "documentEmpty": _("The file is empty."),
    "documentTypeNotAllowed": _(
        "This kind of file cannot be sent. Please send a PDF, a photo (JPEG, PNG or HEIC) "
        "or a plain text file."
    ),
    "documentFileRequired": _("Please choose a file to send."),
    "documentLimitReached": _(
        "You have sent %(count)s documents, the most this appointment takes. "
        "Delete one to send another."
    ),
    "documentTotalTooLarge": _(
        "Together, your documents would take more than %(limit)s. "
        "Delete one or send a smaller file."
    ),
    "appointmentCancelled": _("This appointment is cancelled, so no documents can be sent."),
    "documentNotFound": _("This document does not exist any more."),
}
COULD_NOT_SAVE = _("The document could not be saved just now. Please try again later.")
UNAVAILABLE: Mapping[str, str] = {
    "manageLinkInvalid": _("This link is not valid."),
    "manageLinkExpired": _("This link has expired. Please ask the business for a new one."),
    "documentNotFound": _("This document does not exist."),
    "documentIsLink": _("This document is a link, not a file."),
}
TYPE_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/heic": "HEIC",
    "image/heif": "HEIF",
    "text/plain; charset=utf-8": "TXT",
}


class Notice(Enum):
    SENT = _("Thank you, your document was received.")
    DELETED = _("The document was deleted.")


@dataclass(frozen=True, slots=True)
class Item:
    """One document as the page lists it."""

    name: str
    description: str | None
    href: str
    meta: str  # "PDF, 1.2 MB" or "Link"
    external: bool
    delete_action: str | None


@functools.cache
def environment(language: str) -> jinja2.Environment:
    return i18n.jinja_environment([jinja2.FileSystemLoader(TEMPLATES_DIR)], language, "pages")


def translate(language: str, text: str, **params: object) -> str:
    translated = i18n.translations(language, "pages").gettext(text)
    return translated % params if params else translated


def _html(name: str, language: str, context: Mapping[str, Any], status: int) -> Response:
    body = environment(language).get_template(name).render(**context)
    return HTMLResponse(body, status_code=status)


def refusal_text(language: str, error: DomainError | str) -> str:
    if isinstance(error, str):
        return translate(language, error)
    text = REFUSALS.get(error.reason)
    if text is None:  # a storage fault or a busy database: nothing of the consumer's doing
        return translate(language, COULD_NOT_SAVE)
    return translate(language, text, **error.params)


def render(
    language: str,
    page: LinkedDocuments,
    *,
    csrf: str,
    here: str,
    accept: str,
    max_bytes: int,
    notice: Notice | None,
    error: DomainError | str | None,
    status: int,
) -> Response:
    token = page.linked.token
    appointment = page.linked.appointment
    context = {
        "business": page.linked.business.display_name,
        "service": appointment.display_name,
        "when": _when(page, language),
        "cancelled": appointment.status != "booked",
        "prerequisites": [_item(doc, token, language, None) for doc in page.prerequisites],
        "uploads": [_item(doc, token, language, _query(here)) for doc in page.uploads],
        "room": page.room,
        "limit": describe_bytes(max_bytes),
        "max_bytes": max_bytes,
        "accept": accept,
        "csrf_token": csrf,
        "action": here,
        "back": consumer_links.manage_url("", token),
        "notice": translate(language, notice.value) if notice else None,
        "error": refusal_text(language, error) if error is not None else None,
        "too_large": translate(
            language, REFUSALS["documentTooLarge"], limit=describe_bytes(max_bytes)
        ),
        "switch": _switcher(here, language),
    }
    return _html("consumer/documents.html", language, context, status)


def unavailable(language: str, reason: str, *, status: int = 404) -> Response:
    """The page a bad link or an unknown document gets: it says why, and nothing else."""
    text = UNAVAILABLE.get(reason, UNAVAILABLE["manageLinkInvalid"])
    context = {"message": translate(language, text), "back": None}
    return _html("consumer/unavailable.html", language, context, status)


def refusal(language: str, max_bytes: int, *, back: str) -> Response:
    """The page for a body over the cap, answered before any of it is read; it names the
    file's own limit, which is what a person can act on."""
    text = translate(language, REFUSALS["documentTooLarge"], limit=describe_bytes(max_bytes))
    return _html("consumer/unavailable.html", language, {"message": text, "back": back}, 413)


def _item(document: DocumentView, token: str, language: str, deletable: str | None) -> Item:
    """`deletable` is the query string a delete form posts with, or None: not the reader's."""
    if document.web_url is not None:
        link = translate(language, _("Link"))
        return Item(document.display_name, document.description, document.web_url, link, True, None)
    href = consumer_links.document_url("", token, document.id)
    label = TYPE_LABELS.get(document.content_type or "", "")
    meta = f"{label}, {_size(document.size_bytes or 0, language)}"
    action = f"{href}/delete{deletable}" if deletable is not None else None
    return Item(document.display_name, document.description, href, meta, False, action)


def _query(url: str) -> str:
    return url[url.index("?") :] if "?" in url else ""


def _size(size: int, language: str) -> str:
    locale = i18n.locale(language)
    if size < 1000:
        return f"{size} B"
    if size < 1000 * 1000:
        return f"{format_decimal(size / 1000, '#,##0.#', locale=locale)} kB"
    return f"{format_decimal(size / 1000 / 1000, '#,##0.#', locale=locale)} MB"


def _when(page: LinkedDocuments, language: str) -> str:
    try:
        zone = resolve_zone(page.zone_name)
    except UnknownTimeZone:
        zone = resolve_zone("UTC")
    start = page.linked.appointment.start_date_time
    return translate(
        language,
        _("%(date)s at %(time)s, %(zone)s"),
        date=i18n.format_date(start, zone, language),
        time=i18n.format_time(start, zone, language),
        zone=i18n.zone_label(zone, language, at=start),
    )


def _switcher(here: str, language: str) -> list[dict[str, Any]]:
    base = here.split("?", 1)[0]
    return [
        {
            "code": code,
            "name": i18n.LANGUAGE_NAMES[code],
            "href": f"{base}?lang={code}",
            "current": code == language,
        }
        for code in i18n.LANGUAGES
    ]
