"""SMS encodings and segments: GSM-7 when the text allows, UCS-2 otherwise (3GPP TS 23.038).

A GSM-7 segment carries 160 septets (153 when concatenated); characters of the extension
table cost two septets. A UCS-2 segment carries 70 UTF-16 code units (67 when concatenated).
"""

from __future__ import annotations

from dataclasses import dataclass

# The GSM 03.38 default alphabet and its extension table (each extension costs an escape).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67


def gsm7_septets(text: str) -> int | None:
    """Septets the text takes in GSM-7, or None when it needs UCS-2."""
    septets = 0
    for character in text:
        if character in GSM7_BASIC:
            septets += 1
        elif character in GSM7_EXTENSION:
            septets += 2
        else:
            return None
    return septets


def ucs2_units(text: str) -> int:
    """UTF-16 code units: what a UCS-2 (in practice UTF-16) SMS counts."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Measure:
    """How a text goes out: its encoding, its length in that encoding and its segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int


def measure(text: str) -> Measure:
    """The encoding and number of segments an SMS of this text costs."""
    septets = gsm7_septets(text)
    if septets is not None:
        single, multi, encoding, units = GSM7_SINGLE, GSM7_MULTI, "GSM-7", septets
    else:
        single, multi, encoding, units = UCS2_SINGLE, UCS2_MULTI, "UCS-2", ucs2_units(text)
    if units <= single:
        return Measure(encoding, units, 1 if units else 0)
    return Measure(encoding, units, -(-units // multi))


def fits_one_segment(text: str) -> bool:
    """True when the text goes out as a single SMS."""
    return measure(text).segments <= 1
