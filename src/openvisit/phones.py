"""Phone numbers people type: validated and written as E.164 (phonenumbers, Google's
libphonenumber metadata), with a default region for numbers written without a country code.

The region comes from where the business is: its address's countryOrRegion, which Graph
keeps as free text ("US", "USA", "Germany"), is read with pycountry's table of ISO 3166
names and codes. Shared by every layer, like emails.py.
"""

from __future__ import annotations

import functools

import phonenumbers
import pycountry


class InvalidPhone(ValueError):
    pass


def normalized_phone(text: str, region: str | None) -> str:
    """`text` as an E.164 number ("+14155550100"), or InvalidPhone.

    A number without a leading + or international prefix is read in `region` (ISO 3166
    alpha-2); without a region it must carry its country code.
    """
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone(f"'{text}' is not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"'{text}' is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=256)
def region_of(country: str | None) -> str | None:
    """The ISO 3166 alpha-2 code a country name or code names, or None."""
    if not country or not country.strip():
        return None
    try:
        found = pycountry.countries.lookup(country.strip())
    except LookupError:
        return None
    code: str = found.alpha_2
    return code
