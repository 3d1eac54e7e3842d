"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
# Long enough for any passphrase; short enough that hashing cannot be used to burn CPU.
MAX_PASSWORD_LENGTH = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """The argon2 hash of a random password, made on first use (not at import: every
    command and worker process imports this). Verifying against it when the e-mail is
    unknown makes a failed sign-in take as long as a wrong password, so timing does
    not reveal which accounts exist."""
    return hash_password(secrets.token_hex(16))


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
