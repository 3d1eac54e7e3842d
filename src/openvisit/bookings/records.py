"""Create, read, update and delete for the resources that live inside a business.

Services, staff members, customers and custom questions share the same life cycle; each
resource module declares a `ResourceKind` and adds its own cross-record checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from openvisit import audit
from openvisit.audit.actions import RecordActions
from openvisit.bookings.document_store import DocumentStore
from openvisit.bookings.views import V, snapshot
from openvisit.clock import Clock
from openvisit.errors import NotFound
from openvisit.listing import ListQuery, Page
from openvisit.store.db import Database
from openvisit.store.listing import fetch_page
from openvisit.store.models import Business, BusinessChild

R = TypeVar("R", bound=BusinessChild)
Changes = Mapping[str, Any]
# (session, business id, changes, the record as stored or None on create) -> raise or pass
Check = Callable[[Session, str, Changes, Any], None]


# (session, business id, id of the record being deleted): drop references to it elsewhere
Cleanup = Callable[[Session, str, str], None]
# (session, document store, id of the record being deleted): remove the files of its
# documents once the deletion commits (their rows cascade)
FileCleanup = Callable[[Session, DocumentStore, str], None]


# (session, the record with its changes applied, the changes, actor, now): keep what
# depends on the record in step, in the same transaction
Followup = Callable[[Session, Any, Changes, str, datetime], None]


def _no_check(_session: Session, _business_id: str, _changes: Changes, _current: Any) -> None:
    return None


def _no_cleanup(_session: Session, _business_id: str, _record_id: str) -> None:
    return None


def _no_followup(
    _session: Session, _record: Any, _changes: Changes, _actor: str, _now: datetime
) -> None:
    return None


@dataclass(frozen=True)
class ResourceKind(Generic[R, V]):
    model: type[R]
    view: type[V]  # what the services return: a frozen copy of the row
    label: str  # as in messages: "service", "staff member"
    actions: RecordActions  # what the audit log calls its creation, change and deletion
    columns: Mapping[str, InstrumentedAttribute[Any]]  # API property -> filterable column
    check: Check = field(default=_no_check)
    on_delete: Cleanup = field(default=_no_cleanup)
    on_update: Followup = field(default=_no_followup)
    files: FileCleanup | None = None  # set for records that own documents (services)


def require_business(session: Session, business_id: str) -> Business:
    """The business, looked up case-insensitively: its id is an e-mail-like address."""
    # An id with U+0000 names nothing, and PostgreSQL refuses to even look it up.
    business = None if "\x00" in business_id else session.get(Business, business_id.lower())
    if business is None:
        raise business_not_found(business_id)
    return business


def business_not_found(business_id: str) -> NotFound:
    return NotFound("businessNotFound", business=business_id)


def snapshots(view: type[V], page: Page[Any]) -> Page[V]:
    """The page with each row replaced by its view; called while the rows' session is open."""
    return replace(page, items=tuple(snapshot(view, row) for row in page.items))


def load(session: Session, kind: ResourceKind[R, Any], business_id: str, record_id: str) -> R:
    business = require_business(session, business_id)
    record = None if "\x00" in record_id else session.get(kind.model, record_id)
    if record is None or record.business_id != business.id:
        raise NotFound("recordNotFound", kind=kind.label, record=record_id, business=business_id)
    return record


def list_records(
    db: Database, kind: ResourceKind[Any, V], business_id: str, query: ListQuery, *, page_size: int
) -> Page[V]:
    with db.read() as session:
        business = require_business(session, business_id)
        statement = select(kind.model).where(kind.model.business_id == business.id)
        page = fetch_page(
            session,
            statement,
            query,
            kind.columns,
            default_order=[kind.model.display_name, kind.model.id],
            page_size=page_size,
        )
        return snapshots(kind.view, page)


def get_record(db: Database, kind: ResourceKind[Any, V], business_id: str, record_id: str) -> V:
    with db.read() as session:
        return snapshot(kind.view, load(session, kind, business_id, record_id))


def create_record(
    db: Database,
    clock: Clock,
    kind: ResourceKind[Any, V],
    business_id: str,
    changes: Changes,
    *,
    actor: str,
) -> V:
    """Insert a record after the resource's checks; all of it or nothing is stored."""
    now = clock.now()
    with db.write() as session:
        business_id = require_business(session, business_id).id
        kind.check(session, business_id, changes, None)
        record = kind.model()
        record.id, record.business_id = str(uuid.uuid4()), business_id
        record.created_date_time = record.last_updated_date_time = now
        _apply(record, changes)
        session.add(record)
        audit.record(
            session,
            kind.actions.created,
            actor=actor,
            subject=record.id,
            at=now,
            data={"businessId": business_id},
        )
        session.flush()
        return snapshot(kind.view, record)


def update_record(
    db: Database,
    clock: Clock,
    kind: ResourceKind[Any, V],
    business_id: str,
    record_id: str,
    changes: Changes,
    *,
    actor: str,
) -> V:
    now = clock.now()
    with db.write() as session:
        record = load(session, kind, business_id, record_id)
        kind.check(session, record.business_id, changes, record)
        _apply(record, changes)
        record.last_updated_date_time = now
        session.flush()  # what on_update reads sees the change
        kind.on_update(session, record, changes, actor, now)
        audit.record(
            session,
            kind.actions.updated,
            actor=actor,
            subject=record.id,
            at=now,
            data={"businessId": business_id, "fields": sorted(changes)},
        )
        return snapshot(kind.view, record)


def delete_record(
    db: Database,
    clock: Clock,
    kind: ResourceKind[Any, Any],
    business_id: str,
    record_id: str,
    *,
    actor: str,
    documents: DocumentStore | None = None,
) -> None:
    """Delete a record; one that owns documents (a service) needs the `documents` store,
    whose files of its documents go once the deletion commits."""
    if kind.files is not None and documents is None:
        raise TypeError(f"deleting a {kind.label} needs the document store")
    with db.write() as session:
        record = load(session, kind, business_id, record_id)
        kind.on_delete(session, record.business_id, record.id)
        if kind.files is not None and documents is not None:
            kind.files(session, documents, record.id)
        session.delete(record)
        audit.record(
            session,
            kind.actions.deleted,
            actor=actor,
            subject=record_id,
            at=clock.now(),
            data={"businessId": business_id},
        )


def _apply(record: BusinessChild, changes: Changes) -> None:
    for name, value in changes.items():
        if not hasattr(type(record), name):  # a programming error, not user input
            raise AttributeError(f"{type(record).__name__} has no column {name}")
        setattr(record, name, value)
