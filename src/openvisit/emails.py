"""E-mail address validation shared by every layer (email-validator, no DNS look-ups).

Self-hosted deployments live on intranet and documentation domains: business ids are
`name@openvisit.local` by default and demos use `.example`. email-validator refuses those
special-use names unless they are removed from its documented SPECIAL_USE_DOMAIN_NAMES
list; names that can never receive mail (.invalid, .onion, .arpa) stay refused.
"""

from __future__ import annotations

import email_validator
from email_validator import EmailNotValidError, validate_email

ALLOWED_SPECIAL_USE = ("local", "example", "test", "localhost", "internal")
for _name in ALLOWED_SPECIAL_USE:
    if _name in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove(_name)


class InvalidEmail(ValueError):
    pass


def normalized_email(address: str) -> str:
    """Return the normalized form of a valid address, or raise InvalidEmail."""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidEmail(f"'{address}' is not a valid e-mail address: {error}") from error
