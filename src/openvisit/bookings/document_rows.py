"""The steps every document use-case shares: views, rows, storing, opening, deleting.

The use-cases themselves live in bookings/documents.py (staff, and what messages list)
and bookings/linked_documents.py (the consumer behind a manage link); they open the
transactions, these steps run inside them.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.bookings.document_store import (
    CHUNK_BYTES,
    DocumentStore,
    StagedFile,
    remove_after_commit,
)
from openvisit.bookings.document_types import EXTENSIONS
from openvisit.bookings.views import snapshot
from openvisit.errors import NotFound
from openvisit.store.db import Database
from openvisit.store.models import Document

logger = logging.getLogger(__name__)

FILE, LINK = "file", "link"
STAFF, CUSTOMER = "staff", "customer"
DEFAULT_NAME = "Document"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class DocumentView:
    id: str
    business_id: str
    service_id: str | None
    appointment_id: str | None
    kind: str  # file | link
    display_name: str
    description: str | None
    web_url: str | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    uploaded_by: str  # staff | customer
    created_date_time: datetime

    @property
    def file_name(self) -> str:
        """The name a download is saved under: the display name, with the extension of
        the type its content was found to be when the name lacks it."""
        extension = EXTENSIONS.get(self.content_type or "", "")
        if self.display_name.lower().endswith(extension):
            return self.display_name
        return self.display_name + extension


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file to store: its bytes and what the sender said about it.

    `file_name` is the client's name for the file, used only as the display name when
    none is given; it never names anything on disk and never decides the type.
    """

    source: BinaryIO
    file_name: str | None = None
    display_name: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class NewLink:
    display_name: str
    web_url: str
    description: str | None = None


@dataclass(frozen=True)
class DocumentContent:
    """An open document file; `chunks` streams it and closes it at the end."""

    document: DocumentView
    stream: BinaryIO

    def chunks(self) -> Iterator[bytes]:
        with self.stream:
            while chunk := self.stream.read(CHUNK_BYTES):
                yield chunk


Write = Callable[[Session, StagedFile, str], DocumentView]


def store_file(
    db: Database, store: DocumentStore, business_id: str, upload: NewFile, write: Write
) -> DocumentView:
    """Stage the upload, then `write` its row and move the file into place in one write
    transaction; whatever fails, no file is left that no row names."""
    staged = store.stage(business_id, upload.source)
    name = store.new_name(staged)
    placed = False
    try:
        with db.write() as session:
            view = write(session, staged, name)
            session.flush()  # constraint failures surface before the file moves
            store.place(staged, name)
            placed = True
    except BaseException:
        if placed:  # the commit itself failed
            store.remove(name)
        raise
    finally:
        staged.discard()
    return view


def new_row(
    business_id: str, kind: str, display_name: str, description: str | None, actor: str
) -> Document:
    return Document(
        id=str(uuid.uuid4()),
        business_id=business_id,
        kind=kind,
        display_name=display_name,
        description=description,
        uploaded_by=STAFF,
        created_by=actor,
    )


def file_row(
    business_id: str, upload: NewFile, staged: StagedFile, name: str, by: str, actor: str
) -> Document:
    row = new_row(business_id, FILE, display_name_for(upload), upload.description, actor)
    row.content_type, row.size_bytes, row.sha256 = staged.content_type, staged.size, staged.sha256
    row.storage_name, row.uploaded_by = name, by
    return row


def display_name_for(upload: NewFile) -> str:
    """The name given, else the client's file name without any folder, else "Document"."""
    for candidate in (upload.display_name, upload.file_name):
        if candidate:
            # Browsers once sent C:\fakepath\x.pdf; some clients still send a whole path.
            name = _UNPRINTABLE.sub("", re.split(r"[/\\]", candidate)[-1]).strip()
            if name:
                return name[:255]
    return DEFAULT_NAME


def insert(
    session: Session, row: Document, action: Action, actor: str, now: datetime
) -> DocumentView:
    row.created_date_time = now
    session.add(row)
    audit.record(session, action, actor=actor, subject=row.id, at=now, data=_audit_data(row))
    session.flush()
    return snapshot(DocumentView, row)


def delete(
    session: Session, store: DocumentStore, row: Document, actor: str, now: datetime
) -> None:
    """Delete the row; its file goes once the transaction commits."""
    session.delete(row)
    if row.storage_name:
        remove_after_commit(session, store, [row.storage_name])
    audit.record(
        session, Action.DOCUMENT_DELETED, actor=actor, subject=row.id, at=now, data=_audit_data(row)
    )


def _audit_data(row: Document) -> dict[str, object]:
    data: dict[str, object] = {"businessId": row.business_id, "kind": row.kind}
    if row.service_id is not None:
        data["serviceId"] = row.service_id
    if row.appointment_id is not None:
        data["appointmentId"] = row.appointment_id
    if row.kind == FILE:
        data.update(contentType=row.content_type, size=row.size_bytes, sha256=row.sha256)
    else:
        data["webUrl"] = row.web_url
    return data


def open_file(store: DocumentStore, row: Document) -> DocumentContent:
    """Open a row's file inside the session; it is read after the session ends."""
    document = snapshot(DocumentView, row)
    if row.storage_name is None:
        raise NotFound("documentIsLink", document=row.id)
    try:
        return DocumentContent(document, store.open(row.storage_name))
    except FileNotFoundError:
        # Only an operator's hand (or a lost disk) removes a file whose row stands.
        logger.error("document %s: its file %s is missing", row.id, row.storage_name)
        raise NotFound("documentNotFound", document=row.id) from None


def views(session: Session, condition: ColumnElement[bool]) -> tuple[DocumentView, ...]:
    """The documents matching `condition`, oldest first."""
    rows = session.scalars(
        select(Document).where(condition).order_by(Document.created_date_time, Document.id)
    )
    return tuple(snapshot(DocumentView, row) for row in rows)


def find(
    session: Session,
    document_id: str,
    *,
    service_id: str | None = None,
    appointment_id: str | None = None,
) -> Document:
    """The document, if it belongs to the service or appointment named; else NotFound."""
    # An id with U+0000 names nothing, and PostgreSQL refuses to even look it up.
    row = None if "\x00" in document_id else session.get(Document, document_id)
    if (
        row is None
        or (service_id is not None and row.service_id != service_id)
        or (appointment_id is not None and row.appointment_id != appointment_id)
    ):
        raise NotFound("documentNotFound", document=document_id)
    return row


def count(session: Session, condition: ColumnElement[bool]) -> int:
    found = session.scalar(select(func.count()).select_from(Document).where(condition))
    return int(found or 0)


def total_bytes(session: Session, condition: ColumnElement[bool]) -> int:
    found = session.scalar(select(func.coalesce(func.sum(Document.size_bytes), 0)).where(condition))
    return int(found or 0)
