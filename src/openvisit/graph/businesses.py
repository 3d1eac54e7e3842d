"""/solutions/bookingBusinesses: list, create, get, update, delete, publish, unpublish."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.bookings import businesses
from openvisit.bookings.links import business_page_url
from openvisit.bookings.views import BusinessView
from openvisit.graph.changes import body_changes, require
from openvisit.graph.deps import Require, RuntimeDep
from openvisit.graph.odata import (
    collection,
    count_response,
    parse_options,
    select_properties,
)
from openvisit.graph.responses import api_version, context_url, nested, timestamp
from openvisit.graph.schemas.business import (
    BookingBusinessBody,
    BookingBusinessCollection,
    BookingBusinessOut,
    business_defaults,
)
from openvisit.graph.schemas.complex import (
    BookingPageSettings,
    PhysicalAddress,
    SchedulingPolicy,
    WorkHours,
)
from openvisit.graph.schemas.versions import ApiVersion

router = APIRouter(prefix="/solutions/bookingBusinesses", tags=["bookingBusiness"])
BUSINESS_SET = "solutions/bookingBusinesses"
NOT_NULL = frozenset({"display_name", "default_currency_iso", "business_hours"})

Lister = Annotated[Caller, Depends(Require(access.BUSINESS_LIST))]
Creator = Annotated[Caller, Depends(Require(access.BUSINESS_CREATE))]
Reader = Annotated[Caller, Depends(Require(access.BUSINESS_READ))]
Writer = Annotated[Caller, Depends(Require(access.BUSINESS_UPDATE))]
Deleter = Annotated[Caller, Depends(Require(access.BUSINESS_DELETE))]
Publisher = Annotated[Caller, Depends(Require(access.BUSINESS_PUBLISH))]


def business_json(business: BusinessView, base_url: str, version: ApiVersion) -> dict[str, Any]:
    public_url = business_page_url(base_url, business.id) if business.is_published else None
    return {
        "id": business.id,
        "displayName": business.display_name,
        "businessType": business.business_type,
        "email": business.email,
        "phone": business.phone,
        "webSiteUrl": business.web_site_url,
        "defaultCurrencyIso": business.default_currency_iso,
        "languageTag": business.language_tag,
        "isPublished": business.is_published,
        "publicUrl": public_url,
        "address": nested(PhysicalAddress, business.address, version),
        "businessHours": nested(WorkHours, business.business_hours, version),
        "schedulingPolicy": nested(SchedulingPolicy, business.scheduling_policy, version),
        "bookingPageSettings": nested(BookingPageSettings, business.booking_page_settings, version),
        "createdDateTime": timestamp(business.created_date_time),
        "lastUpdatedDateTime": timestamp(business.last_updated_date_time),
    }


def _entity(request: Request, business: BusinessView) -> dict[str, Any]:
    return {
        "@odata.context": context_url(request, f"{BUSINESS_SET}/$entity"),
        **business_json(business, request.app.state.runtime.base_url, api_version(request)),
    }


@router.get("", responses={200: {"model": BookingBusinessCollection}})
def list_booking_businesses(request: Request, runtime: RuntimeDep, caller: Lister) -> Any:
    """List businesses (id and displayName, as Graph does); `?query=` matches the name."""
    options = parse_options(request, search_parameter="query")
    page = businesses.list_businesses(
        runtime.db, options.query, page_size=runtime.page_size, member_email=caller.member_email
    )
    values = [
        {"id": item.id, "displayName": item.display_name}
        if not options.select
        else business_json(item, runtime.base_url, api_version(request))
        for item in page.items
    ]
    return collection(request, context_url(request, BUSINESS_SET), page, values, options)


@router.post("", status_code=201, responses={201: {"model": BookingBusinessOut}})
def create_booking_business(
    request: Request, body: BookingBusinessBody, runtime: RuntimeDep, caller: Creator
) -> Any:
    """Create a business; its id is an SMTP-like address derived from displayName."""
    require(body, "display_name")
    changes = body_changes(body, not_null=NOT_NULL, defaults=business_defaults())
    business = businesses.create_business(
        runtime.db, runtime.clock, changes, id_domain=runtime.business_id_domain, actor=caller.actor
    )
    return _entity(request, business)


@router.get("/$count", response_class=PlainTextResponse)
def count_booking_businesses(
    request: Request, runtime: RuntimeDep, caller: Lister
) -> PlainTextResponse:
    """Count businesses ($filter and ?query= apply)."""
    return count_response(
        request,
        lambda query: businesses.list_businesses(
            runtime.db, query, page_size=1, member_email=caller.member_email
        ),
        search_parameter="query",
    )


@router.get("/{business_id}", responses={200: {"model": BookingBusinessOut}})
def get_booking_business(request: Request, business_id: str, runtime: RuntimeDep, _: Reader) -> Any:
    """Get a business with all its properties."""
    options = parse_options(request)
    business = businesses.get_business(runtime.db, business_id)
    return select_properties(_entity(request, business), options.select)


@router.patch("/{business_id}", status_code=204, response_class=Response)
def update_booking_business(
    business_id: str, body: BookingBusinessBody, runtime: RuntimeDep, caller: Writer
) -> Response:
    """Update the properties sent; complex properties are replaced whole."""
    changes = body_changes(body, not_null=NOT_NULL)
    businesses.update_business(runtime.db, runtime.clock, business_id, changes, actor=caller.actor)
    return Response(status_code=204)


@router.delete("/{business_id}", status_code=204, response_class=Response)
def delete_booking_business(business_id: str, runtime: RuntimeDep, caller: Deleter) -> Response:
    """Delete a business and everything in it."""
    businesses.delete_business(
        runtime.db, runtime.clock, business_id, actor=caller.actor, documents=runtime.documents
    )
    return Response(status_code=204)


@router.post("/{business_id}/publish", status_code=204, response_class=Response)
def publish_booking_business(business_id: str, runtime: RuntimeDep, caller: Publisher) -> Response:
    """Open the booking page to customers (isPublished, publicUrl)."""
    businesses.publish_business(runtime.db, runtime.clock, business_id, actor=caller.actor)
    return Response(status_code=204)


@router.post("/{business_id}/unpublish", status_code=204, response_class=Response)
def unpublish_booking_business(
    business_id: str, runtime: RuntimeDep, caller: Publisher
) -> Response:
    """Close the booking page (isPublished false, publicUrl null)."""
    businesses.unpublish_business(runtime.db, runtime.clock, business_id, actor=caller.actor)
    return Response(status_code=204)
