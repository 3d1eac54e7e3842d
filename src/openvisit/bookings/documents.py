"""Documents before the visit: a service's prerequisites and an appointment's uploads.

- A service lists prerequisite documents, each a file or a link with a display name and
  an optional description. Staff add and delete them through the API; confirmations and
  reminders list them (`prerequisites_for`).
- A consumer uploads files to their appointment through its manage link
  (bookings/linked_documents.py), within the limits of the `DocumentStore`; staff of the
  business read them through the API (here).

Who sees what: staff as auth/access.py allows (the transport checks the role, these
functions the business and, for a team member, that the appointment is theirs); the
holder of a manage link its appointment's own uploads and its service's prerequisites,
nothing else.

Every function owns its transaction. A file is staged outside it (the slow part, no lock
held), then its row is inserted and the file moved into place in one write transaction
that re-checks the limits under a row lock (bookings/document_rows.py, document_store.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from openvisit import consumer_links
from openvisit.audit.actions import Action
from openvisit.bookings import records
from openvisit.bookings.appointments.lookup import check_on_calendar, load_appointment
from openvisit.bookings.authority import check_owned
from openvisit.bookings.document_rows import (
    LINK,
    STAFF,
    DocumentContent,
    DocumentView,
    NewFile,
    NewLink,
    count,
    delete,
    file_row,
    find,
    insert,
    new_row,
    open_file,
    store_file,
    views,
)
from openvisit.bookings.document_store import DocumentStore, StagedFile
from openvisit.bookings.services import SERVICES
from openvisit.bookings.views import snapshot
from openvisit.clock import Clock
from openvisit.errors import Conflict
from openvisit.store.db import Database
from openvisit.store.models import Appointment, Document, Service

__all__ = [
    "DocumentContent",
    "DocumentView",
    "NewFile",
    "NewLink",
    "Prerequisite",
    "add_service_file",
    "add_service_link",
    "delete_service_document",
    "get_appointment_document",
    "get_service_document",
    "list_appointment_documents",
    "list_service_documents",
    "open_appointment_document",
    "open_service_document",
    "prerequisites_for",
    "prerequisites_in",
]

MAX_SERVICE_DOCUMENTS = 20


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """A document a confirmation or reminder lists, and where its reader fetches it."""

    id: str
    display_name: str
    description: str | None
    web_url: str | None  # a link document's own address; None for a file
    content_type: str | None
    size_bytes: int | None

    def url(self, base_url: str, manage_token: str) -> str:
        """The link's address, or the file's download behind the appointment's manage link."""
        return self.web_url or consumer_links.document_url(base_url, manage_token, self.id)


# --- a service's prerequisites -----------------------------------------------------------


def list_service_documents(
    db: Database, business_id: str, service_id: str
) -> tuple[DocumentView, ...]:
    with db.read() as session:
        service = records.load(session, SERVICES, business_id, service_id)
        return views(session, Document.service_id == service.id)


def get_service_document(
    db: Database, business_id: str, service_id: str, document_id: str
) -> DocumentView:
    with db.read() as session:
        service = records.load(session, SERVICES, business_id, service_id)
        return snapshot(DocumentView, find(session, document_id, service_id=service.id))


def add_service_link(
    db: Database, clock: Clock, business_id: str, service_id: str, link: NewLink, *, actor: str
) -> DocumentView:
    """List a link (a form on the business's own site, say) among the prerequisites."""
    with db.write() as session:
        service = _locked_service(session, business_id, service_id)
        row = new_row(service.business_id, LINK, link.display_name, link.description, actor)
        row.service_id, row.web_url = service.id, link.web_url
        return insert(session, row, Action.DOCUMENT_ADDED, actor, clock.now())


def add_service_file(
    db: Database,
    clock: Clock,
    store: DocumentStore,
    business_id: str,
    service_id: str,
    upload: NewFile,
    *,
    actor: str,
) -> DocumentView:
    """Store a file among the service's prerequisites, within the store's size limit."""
    with db.read() as session:  # refuse early, before a large body is copied for nothing
        service = records.load(session, SERVICES, business_id, service_id)
        _check_service_room(session, service.id)
        business, service_id = service.business_id, service.id

    def write(session: Session, staged: StagedFile, name: str) -> DocumentView:
        service = _locked_service(session, business, service_id)
        row = file_row(business, upload, staged, name, STAFF, actor)
        row.service_id = service.id
        return insert(session, row, Action.DOCUMENT_ADDED, actor, clock.now())

    return store_file(db, store, business, upload, write)


def delete_service_document(
    db: Database,
    clock: Clock,
    store: DocumentStore,
    business_id: str,
    service_id: str,
    document_id: str,
    *,
    actor: str,
) -> None:
    """Delete the document; a file goes from disk once the deletion commits."""
    with db.write() as session:
        service = records.load(session, SERVICES, business_id, service_id)
        row = find(session, document_id, service_id=service.id)
        delete(session, store, row, actor, clock.now())


def open_service_document(
    db: Database, store: DocumentStore, business_id: str, service_id: str, document_id: str
) -> DocumentContent:
    """The document's file, open to stream (NotFound documentIsLink for a link)."""
    with db.read() as session:
        service = records.load(session, SERVICES, business_id, service_id)
        return open_file(store, find(session, document_id, service_id=service.id))


def prerequisites_for(db: Database, business_id: str, service_id: str) -> tuple[Prerequisite, ...]:
    """The service's prerequisite documents, oldest first, for a message to list.

    An unknown service (deleted since the booking) has none. A file's `url(base_url,
    manage_token)` is its download behind that appointment's manage link.
    """
    with db.read() as session:
        return prerequisites_in(session, business_id, service_id)


def prerequisites_in(
    session: Session, business_id: str, service_id: str
) -> tuple[Prerequisite, ...]:
    """`prerequisites_for` inside a unit of work the caller already holds."""
    condition = (Document.service_id == service_id) & (Document.business_id == business_id)
    return tuple(
        Prerequisite(
            id=view.id,
            display_name=view.display_name,
            description=view.description,
            web_url=view.web_url,
            content_type=view.content_type,
            size_bytes=view.size_bytes,
        )
        for view in views(session, condition)
    )


def _locked_service(session: Session, business_id: str, service_id: str) -> Service:
    service = records.load(session, SERVICES, business_id, service_id)
    # Locked, so two additions at once cannot both take the last place.
    session.refresh(service, with_for_update=True)
    _check_service_room(session, service.id)
    return service


def _check_service_room(session: Session, service_id: str) -> None:
    found = count(session, Document.service_id == service_id)
    if found >= MAX_SERVICE_DOCUMENTS:
        raise Conflict("documentLimitReached", owner="service", count=found)


# --- an appointment's uploads, as staff read them ----------------------------------------


def list_appointment_documents(
    db: Database, business_id: str, appointment_id: str, *, own_staff_id: str | None = None
) -> tuple[DocumentView, ...]:
    """The appointment's uploads; with `own_staff_id`, only if it is that member's."""
    with db.read() as session:
        appointment = _staff_appointment(session, business_id, appointment_id, own_staff_id)
        return views(session, Document.appointment_id == appointment.id)


def get_appointment_document(
    db: Database,
    business_id: str,
    appointment_id: str,
    document_id: str,
    *,
    own_staff_id: str | None = None,
) -> DocumentView:
    with db.read() as session:
        appointment = _staff_appointment(session, business_id, appointment_id, own_staff_id)
        return snapshot(DocumentView, find(session, document_id, appointment_id=appointment.id))


def open_appointment_document(
    db: Database,
    store: DocumentStore,
    business_id: str,
    appointment_id: str,
    document_id: str,
    *,
    own_staff_id: str | None = None,
) -> DocumentContent:
    with db.read() as session:
        appointment = _staff_appointment(session, business_id, appointment_id, own_staff_id)
        return open_file(store, find(session, document_id, appointment_id=appointment.id))


def _staff_appointment(
    session: Session, business_id: str, appointment_id: str, own_staff_id: str | None
) -> Appointment:
    # As for the appointment itself: a team member's view holds only their own, and a
    # cancelled one is off the calendar for Graph clients (404).
    appointment = load_appointment(session, business_id, appointment_id)
    check_owned(own_staff_id, appointment)
    check_on_calendar(appointment)
    return appointment
