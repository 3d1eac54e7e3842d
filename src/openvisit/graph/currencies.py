"""/solutions/bookingCurrencies: ISO 4217 currencies with symbols."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.bookings.currencies import all_currencies, get_currency
from openvisit.errors import InvalidInput
from openvisit.graph.deps import Require
from openvisit.graph.odata import collection, parse_options, select_properties
from openvisit.graph.responses import context_url
from openvisit.graph.schemas.types import GraphModel
from openvisit.listing import Page

router = APIRouter(prefix="/solutions/bookingCurrencies", tags=["bookingCurrency"])
Reader = Annotated[Caller, Depends(Require(access.CURRENCY_READ))]


class BookingCurrencyOut(GraphModel):
    id: str
    symbol: str


class BookingCurrencyCollection(GraphModel):
    value: list[BookingCurrencyOut]


@router.get("", responses={200: {"model": BookingCurrencyCollection}})
def list_booking_currencies(request: Request, _: Reader) -> Any:
    """List every ISO 4217 currency with its symbol ($top, $skip, $count, $select)."""
    options = parse_options(request)
    query = options.query
    if query.filter is not None or query.order_by:
        raise InvalidInput(
            "unsupportedQueryOption",
            resource="bookingCurrencies",
            options="$top, $skip, $count and $select",
        )
    currencies = all_currencies()
    end = len(currencies) if query.top is None else query.skip + query.top
    page = Page(
        items=currencies[query.skip : end],
        total=len(currencies) if query.count else None,
    )
    values = [{"id": currency.id, "symbol": currency.symbol} for currency in page.items]
    return collection(
        request, context_url(request, "solutions/bookingCurrencies"), page, values, options
    )


@router.get("/{currency_id}", responses={200: {"model": BookingCurrencyOut}})
def get_booking_currency(request: Request, currency_id: str, _: Reader) -> Any:
    """Get one currency by its ISO 4217 code."""
    currency = get_currency(currency_id)
    body = {
        "@odata.context": context_url(request, "solutions/bookingCurrencies/$entity"),
        "id": currency.id,
        "symbol": currency.symbol,
    }
    return select_properties(body, parse_options(request).select)
