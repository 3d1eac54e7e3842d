"""ISO 4217 currencies with display symbols (bookingCurrency)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pycountry
from babel.numbers import get_currency_symbol

from openvisit.errors import NotFound


@dataclass(frozen=True, slots=True)
class Currency:
    id: str
    symbol: str


@lru_cache(maxsize=1)
def all_currencies() -> tuple[Currency, ...]:
    """Every active ISO 4217 currency (pycountry's table), symbol from CLDR (babel)."""
    codes = sorted(currency.alpha_3 for currency in pycountry.currencies)
    return tuple(
        Currency(id=code, symbol=get_currency_symbol(code, locale="en_US")) for code in codes
    )


def get_currency(code: str) -> Currency:
    for currency in all_currencies():
        if currency.id == code.upper():
            return currency
    raise NotFound("currencyNotFound", currency=code)


def is_currency(code: str) -> bool:
    return any(currency.id == code for currency in all_currencies())
