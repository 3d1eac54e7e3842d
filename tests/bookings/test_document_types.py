"""A file's type comes from its bytes: the formats a consumer sends pass, others do not."""

from __future__ import annotations

import pytest

from openvisit.bookings.document_types import HEIC, HEIF, JPEG, PDF, PNG, TEXT, TypeSniffer
from tests.bookings import sample_files


def sniff(data: bytes, chunk: int = 64 * 1024) -> str | None:
    sniffer = TypeSniffer()
    for start in range(0, len(data), chunk):
        sniffer.feed(data[start : start + chunk])
    return sniffer.result()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (sample_files.pdf(), PDF),
        (sample_files.png(), PNG),
        (sample_files.jpeg(), JPEG),
        (sample_files.heic(), HEIC),
        (sample_files.iso_media(b"mif1", b"mif1", b"miaf"), HEIF),
        (sample_files.iso_media(b"mif1", b"mif1", b"heix"), HEIC),
        (sample_files.text(), TEXT),
        ("\ufeffTabs\tand\r\nform feeds\f are text".encode(), TEXT),
    ],
    ids=["pdf", "png", "jpeg", "heic", "heif", "heic-by-brand", "text", "text-with-bom"],
)
def test_allowed_formats_are_known_by_their_content(data, expected):
    assert sniff(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        sample_files.windows_exe(),
        sample_files.iso_media(b"avif", b"mif1", b"avif"),  # AVIF shares HEIF's box, not its codec
        sample_files.iso_media(b"mif1", b"mif1", b"avif"),
        sample_files.iso_media(b"isom", b"mp41"),  # an MP4 video
        b"PK\x03\x04" + b"\x00" * 40,  # a ZIP (or .docx)
        b"plain text with a NUL\x00 in it",
        b"\x1b[31mterminal escapes\x1b[0m",
        b"Latin-1 caf\xe9, not UTF-8",
        b"\x00\x00\x00\x08ftyp",  # a box too short to hold a brand
    ],
    ids=["exe", "avif", "avif-compatible", "mp4", "zip", "nul", "escape", "latin1", "short-box"],
)
def test_other_content_is_none_of_them(data):
    assert sniff(data) is None


def test_text_split_inside_a_character_is_still_text():
    data = "Grüße aus Köln\n".encode() * 50
    assert sniff(data, chunk=7) == TEXT  # 7 splits some two-byte characters in half


def test_text_cut_off_inside_a_character_is_not():
    assert sniff("Grüße".encode()[:3]) is None
