"""The business's colour, applied without inline styles (the pages' CSP allows none).

`/book/{businessId}/brand.css` is a stylesheet of three custom properties made from
bookingPageSettings.bookingPageColorCode: the colour itself for buttons, a text colour
that reads on it, and a shade of it dark enough for links and outlines on the light page.
WCAG 2.1 contrast (4.5:1 for text) decides both, so no brand colour makes a page
unreadable; the colour is parsed as #RRGGBB and nothing else reaches the stylesheet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")
WHITE = (255, 255, 255)
# Black, not a softer ink: for any colour white or black then reads at 4.58:1 or more.
INK = (0, 0, 0)
PAPER = (245, 246, 248)  # --paper in booking.css: the lightest background text sits on
TEXT_CONTRAST = 4.5
RGB = tuple[int, int, int]


def brand_color(settings: Mapping[str, Any] | None) -> RGB | None:
    match = _HEX.match(str((settings or {}).get("bookingPageColorCode") or ""))
    if match is None:
        return None
    value = int(match.group(1), 16)
    return (value >> 16 & 0xFF, value >> 8 & 0xFF, value & 0xFF)


def stylesheet(color: RGB | None) -> str:
    """The brand's custom properties; empty (the defaults stay) without a colour."""
    if color is None:
        return "/* no brand colour: the defaults of booking.css apply */\n"
    ink = WHITE if contrast(color, WHITE) >= contrast(color, INK) else INK
    return (
        ":root {\n"
        f"  --brand: {_hex(color)};\n"
        f"  --brand-ink: {_hex(ink)};\n"
        f"  --brand-text: {_hex(readable_on(color, PAPER))};\n"
        "}\n"
    )


def readable_on(color: RGB, background: RGB) -> RGB:
    """`color`, darkened in steps until text in it reads on `background` (4.5:1)."""
    shade = color
    for _step in range(40):
        if contrast(shade, background) >= TEXT_CONTRAST:
            return shade
        shade = (int(shade[0] * 0.9), int(shade[1] * 0.9), int(shade[2] * 0.9))
    return INK


def contrast(first: RGB, second: RGB) -> float:
    """WCAG 2.1 contrast ratio of two sRGB colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(color: RGB) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in color)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _hex(color: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)
