"""Documents as the consumer reaches them: behind their appointment's manage link.

The link's holder sees their appointment's uploads and its service's prerequisites,
uploads files to it while it is booked (within the `DocumentStore`'s limits), and may
delete their own uploads again; nothing else. Every call checks the link first
(bookings/manage_links.py) and, in its write transaction, that the appointment still
carries the link's version: a link revoked meanwhile opens nothing. The audit log names
the actor `manageLink:<appointment id>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from openvisit.audit.actions import Action
from openvisit.bookings.appointments.lookup import ACTIVE, check_active
from openvisit.bookings.document_rows import (
    CUSTOMER,
    DocumentContent,
    DocumentView,
    NewFile,
    count,
    delete,
    file_row,
    find,
    insert,
    open_file,
    store_file,
    total_bytes,
    views,
)
from openvisit.bookings.document_store import DocumentStore, StagedFile, describe_bytes
from openvisit.bookings.manage_links import LinkedAppointment, appointment_for_link
from openvisit.clock import Clock
from openvisit.errors import Conflict, NotFound
from openvisit.store.db import Database
from openvisit.store.models import Appointment, Document


@dataclass(frozen=True, slots=True)
class LinkedDocuments:
    """What the consumer's documents page shows for one manage link."""

    linked: LinkedAppointment
    prerequisites: tuple[DocumentView, ...]
    uploads: tuple[DocumentView, ...]
    room: int  # how many more files the appointment takes (0 once cancelled)

    @property
    def zone_name(self) -> str:
        """The zone the consumer reads times in: theirs, else the business's, else UTC."""
        settings = self.linked.business.booking_page_settings or {}
        chosen = self.linked.appointment.customer_time_zone or settings.get("businessTimeZone")
        return str(chosen or "UTC")


def link_actor(appointment_id: str) -> str:
    """How the audit log names the holder of an appointment's manage link."""
    return f"manageLink:{appointment_id}"


def documents_for_link(
    db: Database, clock: Clock, store: DocumentStore, secret_key: str, token: str
) -> LinkedDocuments:
    """The prerequisites and uploads the link's holder may see (NotFound for a bad link)."""
    linked = appointment_for_link(db, clock, secret_key, token)
    appointment = linked.appointment
    with db.read() as session:
        uploads = views(session, Document.appointment_id == appointment.id)
        prerequisites = (
            views(session, Document.service_id == appointment.service_id)
            if appointment.service_id is not None
            else ()
        )
    room = max(0, store.max_files_per_appointment - len(uploads))
    return LinkedDocuments(
        linked, prerequisites, uploads, room if appointment.status == ACTIVE else 0
    )


def upload_for_link(
    db: Database,
    clock: Clock,
    store: DocumentStore,
    secret_key: str,
    token: str,
    upload: NewFile,
) -> DocumentView:
    """Store a file the link's holder sends for their (booked, not cancelled) appointment."""
    linked = appointment_for_link(db, clock, secret_key, token)
    appointment_id, version = linked.appointment.id, linked.appointment.link_version
    business, actor = linked.business.id, link_actor(appointment_id)
    with db.read() as session:  # refuse early, before the body is copied for nothing
        _check_room(session, store, _current(session, appointment_id, version), 0)

    def write(session: Session, staged: StagedFile, name: str) -> DocumentView:
        # Locked, so two uploads at once cannot both take the last place.
        appointment = _current(session, appointment_id, version, lock=True)
        _check_room(session, store, appointment, staged.size)
        row = file_row(business, upload, staged, name, CUSTOMER, actor)
        row.appointment_id = appointment.id
        return insert(session, row, Action.DOCUMENT_UPLOADED, actor, clock.now())

    return store_file(db, store, business, upload, write)


def open_for_link(
    db: Database, clock: Clock, store: DocumentStore, secret_key: str, token: str, document_id: str
) -> DocumentContent:
    """A file the link's holder may download: an upload of theirs or a prerequisite."""
    appointment = appointment_for_link(db, clock, secret_key, token).appointment
    with db.read() as session:
        row = find(session, document_id)
        own = row.appointment_id == appointment.id
        prerequisite = row.service_id is not None and row.service_id == appointment.service_id
        if not (own or prerequisite):
            raise NotFound("documentNotFound", document=document_id)
        return open_file(store, row)


def delete_for_link(
    db: Database, clock: Clock, store: DocumentStore, secret_key: str, token: str, document_id: str
) -> None:
    """Delete one of the link holder's own uploads (a prerequisite is not theirs to)."""
    linked = appointment_for_link(db, clock, secret_key, token)
    appointment_id, version = linked.appointment.id, linked.appointment.link_version
    with db.write() as session:
        appointment = _current(session, appointment_id, version)
        row = find(session, document_id, appointment_id=appointment.id)
        delete(session, store, row, link_actor(appointment.id), clock.now())


def _current(
    session: Session, appointment_id: str, version: int, *, lock: bool = False
) -> Appointment:
    """The link's appointment as it stands now: a link revoked meanwhile opens nothing."""
    appointment = session.get(Appointment, appointment_id, with_for_update=lock)
    if appointment is None or appointment.link_version != version:
        raise NotFound("manageLinkInvalid")
    return appointment


def _check_room(
    session: Session, store: DocumentStore, appointment: Appointment, adding: int
) -> None:
    check_active(appointment)
    condition = Document.appointment_id == appointment.id
    found = count(session, condition)
    if found >= store.max_files_per_appointment:
        raise Conflict("documentLimitReached", owner="appointment", count=found)
    if total_bytes(session, condition) + adding > store.max_total_bytes_per_appointment:
        limit = describe_bytes(store.max_total_bytes_per_appointment)
        raise Conflict("documentTotalTooLarge", limit=limit)
