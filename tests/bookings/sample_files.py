"""Small files of each kind a consumer sends, and some they must not, built byte by byte
as their formats' specifications lay them out (no fixture files to go stale)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def pdf(text: str = "Referral") -> bytes:
    body = f"1 0 obj\n<< /Title ({text}) >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + body.encode("ascii")


def png() -> bytes:
    """A 1x1 white PNG: signature, IHDR, IDAT, IEND, each with its CRC."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + b"\x00" * 32 + b"\xff\xd9"


def iso_media(major: bytes, *compatible: bytes) -> bytes:
    """An ISO base media file (HEIF, AVIF, MP4): its ftyp box, then some payload."""
    brands = b"".join(compatible)
    box = struct.pack(">I", 16 + len(brands)) + b"ftyp" + major + b"\x00\x00\x00\x00" + brands
    return box + b"\x00\x00\x00\x08free" + b"\x00" * 64


def heic() -> bytes:
    return iso_media(b"heic", b"mif1", b"heic")


def text() -> bytes:
    return "Medication: Ibuprofen 400 mg\nAllergies: none\nÄrztin: Dr. Müller\n".encode()


def windows_exe() -> bytes:
    """The start of a Windows program: the MZ header and its DOS stub message."""
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + b"\x00" * 44
        + (
            b"\x80\x00\x00\x00\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21"
            b"This program cannot be run in DOS mode.\r\r\n$"
        )
    )


def files_under(root: Path) -> list[Path]:
    """Every file (temporary ones included) below the uploads folder."""
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []
