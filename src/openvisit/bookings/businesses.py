"""Booking businesses: the top-level object every other resource belongs to."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.bookings.document_store import DocumentStore, forget_business_files
from openvisit.bookings.records import require_business, snapshots
from openvisit.bookings.views import BusinessView, snapshot
from openvisit.clock import Clock
from openvisit.listing import ListQuery, Page
from openvisit.store.db import Database
from openvisit.store.listing import fetch_page
from openvisit.store.memberships import member_business_ids
from openvisit.store.models import Business

BUSINESS_COLUMNS = {
    "id": Business.id,
    "displayName": Business.display_name,
    "businessType": Business.business_type,
    "email": Business.email,
    "phone": Business.phone,
    "webSiteUrl": Business.web_site_url,
    "defaultCurrencyIso": Business.default_currency_iso,
    "languageTag": Business.language_tag,
    "isPublished": Business.is_published,
    "createdDateTime": Business.created_date_time,
    "lastUpdatedDateTime": Business.last_updated_date_time,
}
MAX_LOCAL_PART = 64


def list_businesses(
    db: Database, query: ListQuery, *, page_size: int, member_email: str | None = None
) -> Page[BusinessView]:
    """List businesses; `search_text` (Graph's `?query=`) matches the display name.

    With `member_email`, only the businesses where that address is an active staff
    member (what a staff user who is no server administrator may see).
    """
    with db.read() as session:
        statement = select(Business)
        if member_email is not None:
            statement = statement.where(Business.id.in_(member_business_ids(member_email)))
        if query.search_text:
            needle = query.search_text.lower()
            statement = statement.where(func.lower(Business.display_name).contains(needle))
        page = fetch_page(
            session,
            statement,
            query,
            BUSINESS_COLUMNS,
            default_order=[Business.display_name, Business.id],
            page_size=page_size,
        )
        return snapshots(BusinessView, page)


def get_business(db: Database, business_id: str) -> BusinessView:
    with db.read() as session:
        return snapshot(BusinessView, require_business(session, business_id))


def create_business(
    db: Database, clock: Clock, changes: Mapping[str, Any], *, id_domain: str, actor: str
) -> BusinessView:
    """Create a business with a Graph-style id (`name@domain`) derived from its name."""
    now = clock.now()
    with db.write() as session:
        business_id = _free_business_id(session, str(changes["display_name"]), id_domain)
        business = Business(
            id=business_id, is_published=False, created_date_time=now, last_updated_date_time=now
        )
        _apply(business, changes)
        session.add(business)
        audit.record(session, Action.BUSINESS_CREATED, actor=actor, subject=business_id, at=now)
        session.flush()
        return snapshot(BusinessView, business)


def update_business(
    db: Database, clock: Clock, business_id: str, changes: Mapping[str, Any], *, actor: str
) -> BusinessView:
    now = clock.now()
    with db.write() as session:
        business = require_business(session, business_id)
        _apply(business, changes)
        business.last_updated_date_time = now
        audit.record(
            session,
            Action.BUSINESS_UPDATED,
            actor=actor,
            subject=business_id,
            at=now,
            data={"fields": sorted(changes)},
        )
        return snapshot(BusinessView, business)


def delete_business(
    db: Database, clock: Clock, business_id: str, *, actor: str, documents: DocumentStore
) -> None:
    """Delete a business and, through the foreign keys, everything inside it; its
    document files go once that commits."""
    with db.write() as session:
        business = require_business(session, business_id)
        forget_business_files(session, documents, business.id)
        session.delete(business)
        audit.record(
            session, Action.BUSINESS_DELETED, actor=actor, subject=business_id, at=clock.now()
        )


def publish_business(db: Database, clock: Clock, business_id: str, *, actor: str) -> None:
    """Open the booking page to customers (its address is `links.business_page_url`)."""
    _set_published(db, clock, business_id, published=True, actor=actor)


def unpublish_business(db: Database, clock: Clock, business_id: str, *, actor: str) -> None:
    _set_published(db, clock, business_id, published=False, actor=actor)


def _set_published(
    db: Database, clock: Clock, business_id: str, *, published: bool, actor: str
) -> None:
    now = clock.now()
    with db.write() as session:
        business = require_business(session, business_id)
        business.is_published = published
        # The link is derived from the base URL when read; a stored one would go stale
        # when the server moves (behind a proxy, to another port), so none is kept.
        business.public_url = None
        business.last_updated_date_time = now
        action = Action.BUSINESS_PUBLISHED if published else Action.BUSINESS_UNPUBLISHED
        audit.record(session, action, actor=actor, subject=business_id, at=now)


def _apply(business: Business, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        if name not in Business.__table__.columns or name in ("id", "is_published", "public_url"):
            raise AttributeError(f"Business.{name} cannot be written")
        setattr(business, name, value)


def _free_business_id(session: Session, display_name: str, domain: str) -> str:
    base = _local_part(display_name)
    candidate, suffix = base, 1
    while session.get(Business, f"{candidate}@{domain.lower()}") is not None:
        suffix += 1
        candidate = f"{base[: MAX_LOCAL_PART - len(str(suffix))]}{suffix}"
    return f"{candidate}@{domain.lower()}"


def _local_part(display_name: str) -> str:
    # Graph derives the mailbox name from the display name: ASCII letters and digits only.
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    local = re.sub(r"[^a-z0-9]", "", ascii_name.lower())
    return (local or "business")[:MAX_LOCAL_PART]
