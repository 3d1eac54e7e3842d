"""The key that signs staff sessions and links: configured, or generated once on disk.

Whoever knows the key can forge a session cookie, so a key that is empty, short or a
known placeholder is refused before the server migrates or serves anything, whether it
came from OPENVISIT_SECRET_KEY or from the key file. The key file is created in one
step (files.create_private_file): a start that dies on a full disk leaves no empty file
that a later start would take for a key.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from openvisit.files import create_private_file, ensure_private_dir

# Values people paste from examples; a server must not sign sessions with them.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changethis", "change-me", "changeme", "secret", "secret-key", "dev", "test", "default"}
)
MIN_SECRET_LENGTH = 32
# A long run of one character ("xxxx...") is as guessable as a short key.
MIN_DISTINCT_CHARACTERS = 8
SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name
GENERATE_HINT = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'


class UnsafeSettingsError(ValueError):
    """Raised when a setting would make the server unsafe to run."""


def weakness(value: str) -> str | None:
    """Why `value` cannot sign sessions, or None when it can."""
    value = value.strip()
    if not value:
        return "is empty"
    if value.lower() in PLACEHOLDER_SECRETS:
        return "is a placeholder"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return "is not random (too few different characters)"
    return None


def check_configured(value: str, *, dev_mode: bool) -> str:
    """Return a key set in OPENVISIT_SECRET_KEY, or refuse it with how to fix it."""
    problem = weakness(value)
    if problem is not None and not dev_mode:
        raise UnsafeSettingsError(
            f"OPENVISIT_SECRET_KEY {problem}. Set it to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters (for example the output of {GENERATE_HINT}), "
            "or unset it to have one generated in the data folder."
        )
    return value


def read_key_file(path: Path) -> str | None:
    """The key kept in `path`, None if there is none yet; a damaged file is refused."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise UnsafeSettingsError(
            f"The secret key file {path} cannot be read ({error}). Let the server's user "
            "read it, or restore it from a backup."
        ) from error
    problem = weakness(value)
    if problem is not None:
        # No dev-mode exception: this file is ours, so a bad one means a start failed
        # while writing it (or someone edited it), never a choice.
        raise UnsafeSettingsError(
            f"The secret key file {path} {problem}; a start that failed (a full disk, for "
            "instance) may have left it. Restore it from a backup, or delete it to have a "
            "new key generated (every staff session then ends). OPENVISIT_SECRET_KEY set to "
            "a random value is used instead of the file."
        )
    return value


def resolve(configured: str | None, data_dir: Path, *, dev_mode: bool, create: bool) -> str | None:
    """The signing key: configured, kept in the data folder, or (if `create`) new.

    Returns None only when nothing is configured or kept and `create` is false.
    """
    if configured is not None and (configured.strip() or not dev_mode):
        return check_configured(configured, dev_mode=dev_mode)
    path = data_dir / SECRET_FILE_NAME
    existing = read_key_file(path)
    if existing is not None or not create:
        return existing
    ensure_private_dir(data_dir)
    value = secrets.token_urlsafe(48)
    if create_private_file(path, (value + "\n").encode()):
        return value
    # Another process starting at the same moment wrote its key first: use that one.
    return read_key_file(path)
