"""SMS text rules: E.164 numbers, GSM-7 or UCS-2, segments as carriers count them.

The segment counting is checked against a direct encoding: the text is encoded to
septets (through the 3GPP TS 23.038 table written out by code below) or to UTF-16, and
the encoded stream is cut into segments, never between an escape and its character or
between the halves of a surrogate pair.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvisit.notify.sms_text import (
    CUT_MARK,
    PhoneNumberError,
    encoding_of,
    fit,
    plain_punctuation,
    segment,
    segment_count,
    to_e164,
)
from openvisit.phones import region_of

PROPERTY = settings(max_examples=300, deadline=None, derandomize=True, database=None)

# TS 23.038 default alphabet: the codes where it agrees with ASCII, then the others.
_SAME_AS_ASCII = [*range(0x20, 0x24), *range(0x25, 0x40), *range(0x41, 0x5B), *range(0x61, 0x7B)]
_OTHER_CODES = {
    0x00: "@", 0x01: "£", 0x02: "$", 0x03: "¥", 0x04: "è", 0x05: "é", 0x06: "ù", 0x07: "ì",
    0x08: "ò", 0x09: "Ç", 0x0A: "\n", 0x0B: "Ø", 0x0C: "ø", 0x0D: "\r", 0x0E: "Å", 0x0F: "å",
    0x10: "Δ", 0x11: "_", 0x12: "Φ", 0x13: "Γ", 0x14: "Λ", 0x15: "Ω", 0x16: "Π", 0x17: "Ψ",
    0x18: "Σ", 0x19: "Θ", 0x1A: "Ξ", 0x1C: "Æ", 0x1D: "æ", 0x1E: "ß", 0x1F: "É", 0x24: "¤",
    0x40: "¡", 0x5B: "Ä", 0x5C: "Ö", 0x5D: "Ñ", 0x5E: "Ü", 0x5F: "§", 0x60: "¿", 0x7B: "ä",
    0x7C: "ö", 0x7D: "ñ", 0x7E: "ü", 0x7F: "à",
}  # fmt: skip
BASIC = {chr(code): code for code in _SAME_AS_ASCII} | {
    char: code for code, char in _OTHER_CODES.items()
}
# The extension table, reached through the escape 0x1B.
EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
             "]": 0x3E, "|": 0x40, "€": 0x65}  # fmt: skip
ESCAPE = 0x1B


def gsm_septets(text: str) -> list[list[int]] | None:
    """Each character as its septets, or None if some character has none."""
    encoded = []
    for char in text:
        if char in BASIC:
            encoded.append([BASIC[char]])
        elif char in EXTENSION:
            encoded.append([ESCAPE, EXTENSION[char]])
        else:
            return None
    return encoded


def utf16_units(text: str) -> list[list[int]]:
    """Each character as its UTF-16 code units (a surrogate pair for astral characters)."""
    data = text.encode("utf-16-be")
    units = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    grouped: list[list[int]] = []
    for unit in units:
        if 0xDC00 <= unit <= 0xDFFF:  # a low surrogate belongs to the unit before it
            grouped[-1].append(unit)
        else:
            grouped.append([unit])
    return grouped


def direct_segments(text: str) -> tuple[str, int, int]:
    """(encoding, units, segments) counted on the encoded stream."""
    septets = gsm_septets(text)
    if septets is not None:
        encoded, single, per_segment, name = septets, 160, 153, "GSM-7"
    else:
        encoded, single, per_segment, name = utf16_units(text), 70, 67, "UCS-2"
    stream = [unit for group in encoded for unit in group]
    if len(stream) <= single:
        return name, len(stream), 1
    segments, position = 1, 0
    for group in encoded:
        if position + len(group) > per_segment:
            segments, position = segments + 1, 0
        position += len(group)
    return name, len(stream), segments


gsm_basic_chars = st.sampled_from(sorted(BASIC))
gsm_extension_chars = st.sampled_from(sorted(EXTENSION))
bmp_chars = st.characters(
    min_codepoint=0x100, max_codepoint=0xFFFF, categories=("L", "M", "N", "P", "S", "Zs")
)
astral_chars = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)
gsm_texts = st.lists(
    st.one_of(gsm_basic_chars, gsm_basic_chars, gsm_extension_chars), max_size=400
).map("".join)
mixed_texts = st.lists(
    st.one_of(gsm_basic_chars, gsm_extension_chars, bmp_chars, astral_chars), max_size=300
).map("".join)


@PROPERTY
@given(st.one_of(gsm_texts, mixed_texts))
def test_counting_agrees_with_a_direct_encoding(text):
    found = segment(text)

    assert (found.encoding, found.units, found.segments) == direct_segments(text)


@PROPERTY
@given(st.one_of(gsm_texts, mixed_texts))
def test_the_parts_join_to_the_text_and_each_fits_its_segment(text):
    found = segment(text)

    assert "".join(found.parts) == text
    if found.segments > 1:
        for part in found.parts:
            assert direct_segments(part)[1] <= (153 if found.encoding == "GSM-7" else 67)


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # 160 septets
        ("€" * 76 + "€" * 5, "GSM-7", 2),  # 76 escapes fill 152 of 153 septets
        ("a" * 152 + "€" + "a" * 153, "GSM-7", 3),  # the € may not straddle the boundary
        ("Grüße, Ärztin Ñuñez: 10 € à 09:30", "GSM-7", 1),
        ("ł" * 70, "UCS-2", 1),
        ("ł" * 71, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # 70 code units
        ("😀" * 36, "UCS-2", 2),  # 33 pairs (66 units) in a segment of 67
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3),  # the pair may not be split
    ],
)
def test_documented_limits(text, encoding, segments):
    assert (encoding_of(text), segment_count(text)) == (encoding, segments)


def test_plain_punctuation_keeps_a_german_reminder_in_gsm7():
    text = "\u201eIhr Termin\u201c \u2013 morgen um 09:30\u202fUhr\u2026"

    assert encoding_of(text) == "UCS-2"
    assert plain_punctuation(text) == '"Ihr Termin" - morgen um 09:30 Uhr...'
    assert encoding_of(plain_punctuation(text)) == "GSM-7"


# --- fitting a body into a budget ------------------------------------------------------

MANAGE = "https://visit.example/manage/eyJhIjoxfQ.c2lnbmF0dXJl"


def test_a_body_that_fits_is_left_alone():
    assert fit("Your visit is on Tuesday.", 1, keep=" " + MANAGE) == (
        "Your visit is on Tuesday. " + MANAGE
    )


def test_a_long_body_is_cut_at_a_word_and_keeps_the_link_whole():
    text = "Reminder: your video visit with Dr. Ann Osei is tomorrow at 10:00. " * 5

    fitted = fit(text, 2, keep="\n" + MANAGE)

    assert segment_count(fitted) <= 2
    assert fitted.endswith("\n" + MANAGE)
    head = fitted.removesuffix("\n" + MANAGE)
    assert head.endswith(CUT_MARK)
    assert text.startswith(head.removesuffix(CUT_MARK))
    assert head.removesuffix(CUT_MARK)[-1] != " "
    assert text[len(head) - len(CUT_MARK)] == " "  # cut before a space: no half word


def test_a_url_inside_the_text_goes_whole_or_not_at_all():
    text = "Please bring the form from https://visit.example/forms/intake-2026.pdf " * 4

    fitted = fit(text, 1)

    assert segment_count(fitted) == 1
    assert "https://visit.example/forms/intake-2026.pdf" in fitted
    assert all(url == "https://visit.example/forms/intake-2026.pdf" for url in _urls(fitted))


def test_a_link_that_cannot_fit_is_refused():
    with pytest.raises(ValueError, match="more than 1 segments"):
        fit("Hello", 1, keep=" https://visit.example/" + "x" * 200)


def _urls(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


words = st.one_of(
    st.text(alphabet=st.sampled_from("abcdeéfß€łž😀"), min_size=1, max_size=12),
    st.builds(lambda path: f"https://visit.example/{path}", st.text("abcxyz0123", max_size=40)),
)


@PROPERTY
@given(
    st.lists(words, max_size=80).map(" ".join),
    st.sampled_from(["", " " + MANAGE, "\n" + MANAGE]),
    st.integers(1, 4),
)
def test_fitting_respects_the_budget_and_never_cuts_a_url(text, keep, budget):
    fitted = fit(text, budget, keep=keep)

    assert segment_count(fitted) <= budget
    assert fitted.endswith(keep.lstrip())
    if segment_count(text + keep) <= budget:
        assert fitted == text + keep
        return
    # Shortened: the head of the text and the mark, or nothing of the text at all.
    body = fitted.removesuffix(keep) if fitted.endswith(keep) else ""
    assert body == "" or body.endswith(CUT_MARK)
    body = body.removesuffix(CUT_MARK)
    assert text.startswith(body)
    originals = set(_urls(text))
    assert all(url in originals for url in _urls(body))


# --- phone numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("0151 23456789", "DE", "+4915123456789"),
        ("0049 151 2345 6789", "de", "+4915123456789"),
        ("+49 (151) 23456789", None, "+4915123456789"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("+1 201-555-0123", "DE", "+12015550123"),
        ("07400 123456", "GB", "+447400123456"),
    ],
)
def test_numbers_become_e164(typed, region, e164):
    assert to_e164(typed, region) == e164


@pytest.mark.parametrize(
    ("typed", "region", "problem"),
    [
        ("call me", "US", "unreadable"),
        ("0151 23456789", None, "unreadable"),  # no country code and no region to assume
        ("+1 555 0100", None, "invalid"),
        ("+49 151 234", None, "invalid"),
        ("030 1234567", "DE", "notMobile"),  # a Berlin landline
        ("+1 800 555 0100", None, "notMobile"),  # toll-free
    ],
)
def test_numbers_that_take_no_texts_are_refused(typed, region, problem):
    with pytest.raises(PhoneNumberError) as raised:
        to_e164(typed, region)

    assert raised.value.problem == problem


@pytest.mark.parametrize(
    ("country", "region"),
    [("DE", "DE"), ("de", "DE"), ("Germany", "DE"), ("United States", "US"), ("Atlantis", None),
     ("", None), (None, None)],
)  # fmt: skip
def test_a_business_country_names_the_default_region(country, region):
    assert region_of(country) == region
