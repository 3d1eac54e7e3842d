"""Which kind of file an upload is, read from its bytes, never from its name or the type
the client declared.

A client's Content-Type and file name are whatever it chose to send: an `.exe` renamed
`scan.pdf` and sent as `application/pdf` must still be refused. Only formats a person
sends to a clinic or an office before a visit are allowed: PDF, PNG, JPEG, HEIC/HEIF
(phone photos) and plain UTF-8 text. Each is recognised by its signature (the "magic
bytes" the format's specification puts first); text by decoding the whole file.

`TypeSniffer` is fed the file chunk by chunk as it streams to disk, so nothing is read
twice and nothing is held whole in memory.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
HEIC = "image/heic"
HEIF = "image/heif"
TEXT = "text/plain; charset=utf-8"
ALLOWED = (PDF, PNG, JPEG, HEIC, HEIF, TEXT)
# For messages: what a person recognises.
ALLOWED_NAMES = "PDF, PNG, JPEG, HEIC/HEIF or plain text"
# A download's file name gets this extension when its display name has none.
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", HEIC: ".heic", HEIF: ".heif", TEXT: ".txt"}

HEAD_BYTES = 64  # enough for every signature below, ISO BMFF's first brands included
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# ISO/IEC 23008-12 (HEIF) brands: images coded with HEVC are HEIC; mif1 without an HEVC
# brand is generic HEIF. AVIF shares mif1 but is not on the list, so it is not accepted.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
_FOREIGN_BRANDS = frozenset({b"avif", b"avis"})
# Control characters plain text may not hold: all but tab, line feed, form feed and
# carriage return. A NUL marks a binary file that happens to be valid UTF-8.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f]")


def binary_type(head: bytes) -> str | None:
    """The allowed binary format whose signature `head` starts with, or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(_PNG_SIGNATURE):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    return _heif_type(head)


def _heif_type(head: bytes) -> str | None:
    # An ISO base media file starts with its `ftyp` box: size, "ftyp", major brand,
    # minor version, then compatible brands up to the box's end.
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[0:4], "big")
    if size < 16:
        return None
    end = min(size, len(head))
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if brands & _HEIC_BRANDS:
        return HEIC
    if brands & _HEIF_BRANDS and not brands & _FOREIGN_BRANDS:
        return HEIF
    return None


@dataclass
class TypeSniffer:
    """Decides a file's type from its chunks: `feed` each in order, then read `result`."""

    head: bytearray = field(default_factory=bytearray)
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=codecs.getincrementaldecoder("utf-8")
    )
    _text: bool = True

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        if self._text:
            self._text = _is_text(self._decoder, chunk, final=False)

    def result(self) -> str | None:
        """The file's type among `ALLOWED`, or None when it is none of them."""
        found = binary_type(bytes(self.head))
        if found is not None:
            return found
        if self._text and _is_text(self._decoder, b"", final=True):
            return TEXT
        return None


def _is_text(decoder: codecs.IncrementalDecoder, chunk: bytes, *, final: bool) -> bool:
    try:
        decoded = decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return _NOT_TEXT.search(decoded) is None
