"""/solutions/bookingCurrencies: ISO 4217 currencies with symbols."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from openvisit.auth import scopes
from openvisit.auth.tokens import Principal
from openvisit.bookings.currencies import all_currencies, get_currency
from openvisit.graph.deps import require_scope
from openvisit.graph.odata import parse_options, select_properties
from openvisit.graph.responses import context_url
from openvisit.graph.schemas.types import GraphModel

router = APIRouter(prefix="/solutions/bookingCurrencies", tags=["bookingCurrency"])
Reader = Annotated[Principal, Depends(require_scope(scopes.BOOKINGS_READ))]


class BookingCurrencyOut(GraphModel):
    id: str
    symbol: str


class BookingCurrencyCollection(GraphModel):
    value: list[BookingCurrencyOut]


@router.get("", responses={200: {"model": BookingCurrencyCollection}})
def list_booking_currencies(request: Request, _: Reader) -> Any:
    """List every ISO 4217 currency with its symbol."""
    return {"@odata.context": context_url(request, "solutions/bookingCurrencies"),
            "value": [{"id": c.id, "symbol": c.symbol} for c in all_currencies()]}


@router.get("/{currency_id}", responses={200: {"model": BookingCurrencyOut}})
def get_booking_currency(request: Request, currency_id: str, _: Reader) -> Any:
    """Get one currency by its ISO 4217 code."""
    currency = get_currency(currency_id)
    body = {"@odata.context": context_url(request, "solutions/bookingCurrencies/$entity"),
            "id": currency.id, "symbol": currency.symbol}
    return select_properties(body, parse_options(request).select)
