"""Private files in the data folder: the folder, the database files and the secret key.

The data folder holds what lets anyone read every appointment (the SQLite database) or
forge a staff session (the secret key), so only the server's own user may read it. The
modes are set when a file is created, not by a process-wide umask, so code that writes
other files (tests, backups made for an operator) keeps its usual modes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and its parents) if missing; a folder created here is 0700.

    An existing folder keeps its mode: an operator may have set it up on purpose.
    """
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    # mkdir's mode is masked by the umask; chmod states it exactly.
    path.chmod(PRIVATE_DIR_MODE)


def ensure_private_file(path: Path) -> None:
    """Create an empty `path` with mode 0600 if it does not exist yet.

    SQLite creates its -wal and -shm files with the mode of the database file, so a
    database file made here keeps all three private.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))


def create_private_file(path: Path, data: bytes) -> bool:
    """Write `data` to a new file `path` (mode 0600) all at once; False if it exists.

    The data goes to a temporary file in the same folder first, is flushed to disk, and
    is then linked to its name. link() refuses an existing name, so of two processes
    starting at once exactly one wins and the other reads the winner's file; and a start
    that fails half-way (a full disk) leaves no empty or partial file behind.
    """
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            os.fchmod(stream.fileno(), PRIVATE_FILE_MODE)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        fsync_dir(path.parent)
        return True
    finally:
        os.unlink(temporary)


def fsync_dir(path: Path) -> None:
    """Make a new directory entry durable, so a power cut cannot lose a file's name."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
