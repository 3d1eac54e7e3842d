"""Where document files live: private files under `<data dir>/uploads/<business>/`.

A file arrives in two steps, so a failed upload leaves nothing behind and a stored row
never names a half-written file:

1. `stage` streams it into a hidden temporary file (`.incoming-*`) in its business's
   folder, counting, hashing (SHA-256) and reading its type from its content as it goes,
   and refuses it the moment it passes the size limit. The caller discards the staged
   file when anything goes wrong.
2. `place` renames it to its final, random name (never the client's) inside the write
   transaction that inserts its row, as the last step before the commit; if the commit
   fails, the caller removes it again.

Files are 0600 and folders 0700, like the rest of the data folder (files.py). A file
goes when its row goes: `remove_after_commit` and the `forget_*` functions run the
removal once the deleting transaction commits (store/after_commit.py), never before,
so a rolled-back delete keeps both.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from openvisit.bookings.document_types import ALLOWED_NAMES, TypeSniffer
from openvisit.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from openvisit.files import PRIVATE_FILE_MODE, ensure_private_dir, fsync_dir
from openvisit.store.after_commit import after_commit
from openvisit.store.faults import StorageUnavailable, file_fault
from openvisit.store.models import Document

logger = logging.getLogger(__name__)

UPLOADS_FOLDER = "uploads"  # inside the data folder
MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MIB
DEFAULT_MAX_FILES_PER_APPOINTMENT = 10
DEFAULT_MAX_TOTAL_BYTES_PER_APPOINTMENT = 50 * MIB
# What a multipart body holds beside the file itself: boundaries, part headers and the
# small text fields (CSRF token, display name, description).
FORM_OVERHEAD_BYTES = 64 * 1024
CHUNK_BYTES = 64 * 1024
INCOMING_PREFIX = ".incoming-"
# A business id is `name@domain` in lower case; anything else is hashed into a name.
_SAFE_FOLDER = re.compile(r"[a-z0-9][a-z0-9._@-]{0,199}")
_STORAGE_NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,199}/[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A file written to its temporary name, with what was learnt while writing it."""

    path: Path
    folder: str
    size: int
    sha256: str
    content_type: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class DocumentStore:
    """The uploads folder and the limits on what goes into it.

    `root` is `<data dir>/uploads`. `max_bytes` bounds one file; an appointment holds at
    most `max_files_per_appointment` files of at most `max_total_bytes_per_appointment`
    together. The store writes and removes files only; which row owns which file, and
    whether a caller may see it, is bookings/documents.py's business.
    """

    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    max_files_per_appointment: int = DEFAULT_MAX_FILES_PER_APPOINTMENT
    max_total_bytes_per_appointment: int = DEFAULT_MAX_TOTAL_BYTES_PER_APPOINTMENT

    @property
    def max_request_bytes(self) -> int:
        """The largest upload request body worth reading: one file at the limit, plus form."""
        return self.max_bytes + FORM_OVERHEAD_BYTES

    def stage(self, business_id: str, source: BinaryIO) -> StagedFile:
        """Copy `source` to a temporary file; PayloadTooLarge, InvalidInput (empty) or
        UnsupportedMediaType (not an allowed type) leave no file behind."""
        folder = folder_name(business_id)
        directory = self.root / folder
        ensure_private_dir(self.root)
        ensure_private_dir(directory)
        path = directory / f"{INCOMING_PREFIX}{secrets.token_hex(16)}"
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            with os.fdopen(descriptor, "wb") as target:
                size, digest, content_type = self._copy(source, target)
                target.flush()
                os.fsync(target.fileno())
        except BaseException as error:
            path.unlink(missing_ok=True)
            _raise_storage_fault(error)
            raise
        return StagedFile(path, folder, size, digest, content_type)

    def _copy(self, source: BinaryIO, target: BinaryIO) -> tuple[int, str, str]:
        size, digest, sniffer = 0, hashlib.sha256(), TypeSniffer()
        while chunk := source.read(CHUNK_BYTES):
            size += len(chunk)
            if size > self.max_bytes:
                raise PayloadTooLarge("documentTooLarge", limit=describe_bytes(self.max_bytes))
            digest.update(chunk)
            sniffer.feed(chunk)
            target.write(chunk)
        if size == 0:
            raise InvalidInput("documentEmpty")
        content_type = sniffer.result()
        if content_type is None:
            raise UnsupportedMediaType("documentTypeNotAllowed", allowed=ALLOWED_NAMES)
        return size, digest.hexdigest(), content_type

    def place(self, staged: StagedFile, name: str) -> None:
        """Give a staged file its final name (from `new_name`, already in its row)."""
        target = self._path(name)
        try:
            os.rename(staged.path, target)
            fsync_dir(target.parent)
        except OSError as error:
            _raise_storage_fault(error)
            raise

    @staticmethod
    def new_name(staged: StagedFile) -> str:
        """A fresh random storage name beside the staged file."""
        return f"{staged.folder}/{secrets.token_hex(16)}"

    def open(self, storage_name: str) -> BinaryIO:
        """The stored file, open for reading (FileNotFoundError if it is gone)."""
        return self._path(storage_name).open("rb")

    def remove(self, storage_name: str) -> None:
        self._path(storage_name).unlink(missing_ok=True)

    def remove_business(self, business_id: str) -> None:
        directory = self.root / folder_name(business_id)
        if directory.is_dir():
            shutil.rmtree(directory)

    def _path(self, storage_name: str) -> Path:
        # Names come from our own rows; checking their shape keeps a damaged row from
        # pointing anywhere outside the uploads folder.
        if _STORAGE_NAME.fullmatch(storage_name) is None:
            raise ValueError(f"not a storage name: {storage_name!r}")
        return self.root / storage_name


def _raise_storage_fault(error: BaseException) -> None:
    """A full or read-only disk answers 503, as the database's faults do."""
    kind = file_fault(error) if isinstance(error, OSError) else None
    if kind is not None:
        raise StorageUnavailable(kind) from error


def folder_name(business_id: str) -> str:
    """The business's folder: its id when that is a safe file name, else a digest of it."""
    if _SAFE_FOLDER.fullmatch(business_id) and ".." not in business_id:
        return business_id
    return hashlib.sha256(business_id.encode("utf-8")).hexdigest()[:40]


def describe_bytes(size: int) -> str:
    """A size as people read it in a limit: "10 MiB", "512 KiB", "100 bytes"."""
    for unit, factor in (("MiB", MIB), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def remove_after_commit(session: Session, store: DocumentStore, names: Iterable[str]) -> None:
    """Remove these stored files once `session`'s transaction commits."""
    doomed = [name for name in names if name]
    if doomed:
        after_commit(session, lambda: _remove_all(store, doomed))


def _remove_all(store: DocumentStore, names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(ValueError):
            store.remove(name)


def forget_service_files(session: Session, store: DocumentStore, service_id: str) -> None:
    """The service is being deleted: its documents' rows cascade, their files follow."""
    _forget(session, store, Document.service_id == service_id)


def forget_appointment_files(session: Session, store: DocumentStore, appointment_id: str) -> None:
    """The appointment is being deleted: its uploads' rows cascade, their files follow."""
    _forget(session, store, Document.appointment_id == appointment_id)


def forget_business_files(session: Session, store: DocumentStore, business_id: str) -> None:
    """The business is being deleted: its whole folder goes once that commits."""
    after_commit(session, lambda: store.remove_business(business_id))


def _forget(session: Session, store: DocumentStore, condition: ColumnElement[bool]) -> None:
    names = session.scalars(
        select(Document.storage_name).where(condition, Document.storage_name.is_not(None))
    )
    remove_after_commit(session, store, [name for name in names if name])
