"""Text messages as carriers count them: numbers in E.164, GSM-7 or UCS-2, segments.

Pure functions, no I/O. A carrier bills and delivers an SMS in segments:

- A body made only of GSM 03.38 characters goes as GSM-7: 160 septets in one segment,
  153 per segment once it needs more (the other 7 carry the concatenation header). A
  character of the extension table (`^{}\\[~]|€` and form feed) costs two septets, an
  escape and itself, and the two never straddle a segment boundary.
- Anything else goes as UCS-2 (in practice UTF-16): 70 code units in one segment, 67 per
  segment past that. A character outside the Basic Multilingual Plane (most emoji) is a
  surrogate pair, two units, and a pair is never split between segments either.

One character outside GSM-7 switches the whole body to UCS-2 and more than halves what a
segment holds, so `plain_punctuation` replaces the typographic quotes and dashes that
translations like to use with their GSM-7 look-alikes. `fit` shortens a body to a budget
of segments without cutting a URL, so the manage link always arrives whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

import phonenumbers

Encoding = Literal["GSM-7", "UCS-2"]

# The GSM 03.38 default alphabet in code order, 0x00-0x7F; 0x1B is the escape to the
# extension table, not a character of its own.
_GSM7_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
ESCAPE: Final = "\x1b"
GSM7_BASIC: Final = frozenset(_GSM7_TABLE) - {ESCAPE}
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE: Final = 160  # septets in a message of one segment
GSM7_PER_SEGMENT: Final = 153  # septets in each segment of a longer one
UCS2_SINGLE: Final = 70  # UTF-16 code units
UCS2_PER_SEGMENT: Final = 67

# What shortening puts where text was cut: GSM-7, so it never changes the encoding.
CUT_MARK: Final = "..."
URL: Final = re.compile(r"https?://\S+", re.IGNORECASE)

# Look-alikes in GSM-7 for characters translations use; each keeps the meaning.
_PLAIN: Final = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark (also the typographic apostrophe)
        "\u201a": "'",  # single low-9 quotation mark
        "\u201c": '"',  # left double quotation mark (German closing quote)
        "\u201d": '"',  # right double quotation mark
        "\u201e": '"',  # double low-9 quotation mark (German opening quote)
        "\u00ab": '"',  # left-pointing double angle quotation mark
        "\u00bb": '"',  # right-pointing double angle quotation mark
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2026": "...",  # horizontal ellipsis
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space (CLDR puts it before "AM" and in dates)
        "\u2009": " ",  # thin space
    }
)
# Phone number types that can receive a text. Many countries (the US, Canada) do not
# tell mobile from fixed-line numbers, which phonenumbers reports as FIXED_LINE_OR_MOBILE.
_TEXTABLE: Final = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


class PhoneNumberError(ValueError):
    """A number that cannot receive a text; `problem` says why, for the caller's message.

    - "unreadable": not a phone number at all, or no country code and no default region;
    - "invalid": a number no country has assigned;
    - "notMobile": a valid number of a kind that takes no texts (fixed line, toll-free).
    """

    def __init__(self, problem: Literal["unreadable", "invalid", "notMobile"], text: str) -> None:
        super().__init__(f"{text!r} is not a mobile phone number ({problem})")
        self.problem = problem


def to_e164(text: str, default_region: str | None) -> str:
    """The number as E.164 (`+4915123456789`), read as a person typed it.

    A number without a leading + or 00 is read in `default_region` (an ISO 3166 alpha-2
    code, e.g. the business's country, see `phones.region_of`). Raises PhoneNumberError for
    anything that is not a valid number able to take texts.
    """
    try:
        number = phonenumbers.parse(text, default_region.upper() if default_region else None)
    except phonenumbers.NumberParseException as error:
        raise PhoneNumberError("unreadable", text) from error
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError("invalid", text)
    if phonenumbers.number_type(number) not in _TEXTABLE:
        raise PhoneNumberError("notMobile", text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def plain_punctuation(text: str) -> str:
    """`text` with typographic quotes, dashes and spaces replaced by GSM-7 look-alikes."""
    return text.translate(_PLAIN)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _costs(text: str, encoding: Encoding) -> list[int]:
    """What each character of `text` occupies: septets for GSM-7, code units for UCS-2."""
    if encoding == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


@dataclass(frozen=True, slots=True)
class Segmentation:
    """How a body travels: its encoding, its size in that encoding's units, its parts."""

    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: tuple[str, ...]  # the text of each segment, in order

    @property
    def segments(self) -> int:
        return len(self.parts)


def segment(text: str) -> Segmentation:
    """Split `text` into the segments a carrier sends (at least one, even when empty)."""
    encoding = encoding_of(text)
    costs = _costs(text, encoding)
    units = sum(costs)
    single, per_segment = (
        (GSM7_SINGLE, GSM7_PER_SEGMENT) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PER_SEGMENT)
    )
    if units <= single:
        return Segmentation(encoding, units, (text,))
    parts: list[str] = []
    start = used = 0
    for index, cost in enumerate(costs):
        # A character that does not fit whole opens the next segment: an escape and its
        # character, or the two halves of a surrogate pair, are never separated.
        if used + cost > per_segment:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return Segmentation(encoding, units, tuple(parts))


def segment_count(text: str) -> int:
    return segment(text).segments


def fit(text: str, max_segments: int, *, keep: str = "") -> str:
    """`text` followed by `keep`, shortened to at most `max_segments` segments.

    `keep` (say "\\nhttps://.../manage/...") is never shortened. `text` is cut at the
    last word boundary that fits, and the cut is marked with "..."; a URL inside `text`
    is never cut: it stays whole or goes whole. Raises ValueError if `keep` alone does
    not fit.
    """
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    if segment_count(text + keep) <= max_segments:
        return text + keep
    if segment_count(keep.lstrip()) > max_segments:
        raise ValueError(f"what must be kept needs more than {max_segments} segments")
    cuts = _cut_points(text)
    words = [cut for cut in cuts if cut == 0 or text[cut].isspace()]
    best = _longest_fitting(text, words, keep, max_segments)
    if best == 0:  # no word fits whole: cut inside the first one rather than drop all
        best = _longest_fitting(text, cuts, keep, max_segments)
    return _shortened(text, best, keep)


def _cut_points(text: str) -> list[int]:
    """Every index `text` may be cut before: any, except inside a URL (0 always)."""
    inside: set[int] = set()
    for match in URL.finditer(text):
        inside.update(range(match.start() + 1, match.end()))
    return [index for index in range(len(text)) if index not in inside]


def _shortened(text: str, cut: int, keep: str) -> str:
    head = text[:cut].rstrip()
    return head + CUT_MARK + keep if head else keep.lstrip()


def _longest_fitting(text: str, cuts: list[int], keep: str, max_segments: int) -> int:
    """The largest cut (cuts ascending, cuts[0] == 0) whose shortened text fits.

    A longer head never needs fewer segments (each character costs at least as much in
    UCS-2 as in GSM-7, and UCS-2 segments are smaller), so a binary search finds it.
    """
    low, high = 0, len(cuts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if segment_count(_shortened(text, cuts[middle], keep)) <= max_segments:
            low = middle
        else:
            high = middle - 1
    return cuts[low]
