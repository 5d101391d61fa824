"""SMS encodings and segments: GSM-7 when the text allows, UCS-2 otherwise (3GPP TS 23.038).

A GSM-7 segment carries 160 septets (153 when concatenated); characters of the extension
table cost two septets (an escape, then the character), and the two never straddle segments.
A UCS-2 segment carries 70 UTF-16 code units (67 when concatenated); a surrogate pair never
straddles segments either. Segment counts therefore walk the text instead of dividing.

Beyond measuring, the module prepares replies for SMS: `normalise_for_sms` replaces typographic
characters that would force UCS-2 by accident, `prepare` may also drop accents GSM-7 lacks, and
`paginate` splits a long reply into pages that each fit a segment budget with a "MORE" prompt.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# The GSM 03.38 default alphabet, positions 0x00-0x7F except 0x1B, the escape to the extension
# table: a bare ESC cannot be sent as text, so it is not counted as a character.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these is sent as ESC followed by the character (two septets).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67

_DEFAULT_BUDGETS: dict[str, int] = {"GSM-7": 2, "UCS-2": 3}


def _gsm7_costs(text: str) -> list[int] | None:
    """Septets of each character in GSM-7, or None when a character needs UCS-2."""
    costs: list[int] = []
    for character in text:
        if character in GSM7_BASIC:
            costs.append(1)
        elif character in GSM7_EXTENSION:
            costs.append(2)
        else:
            return None
    return costs


def _ucs2_costs(text: str) -> list[int]:
    """UTF-16 code units of each character: two for astral characters (a surrogate pair)."""
    return [2 if ord(character) > 0xFFFF else 1 for character in text]


def _costs(text: str) -> tuple[Encoding, list[int]]:
    """The encoding a text needs and what each of its characters costs in it."""
    gsm7 = _gsm7_costs(text)
    if gsm7 is not None:
        return "GSM-7", gsm7
    return "UCS-2", _ucs2_costs(text)


def _segment_ends(costs: list[int], single: int, multi: int) -> list[int]:
    """Character index where each segment ends; no character is split between two."""
    if sum(costs) <= single:
        return [len(costs)] if costs else []
    ends: list[int] = []
    used = 0
    for index, cost in enumerate(costs):
        if used + cost > multi:
            ends.append(index)
            used = 0
        used += cost
    ends.append(len(costs))
    return ends


def _limits(encoding: Encoding) -> tuple[int, int]:
    """Capacity of a single SMS and of each part of a concatenated one."""
    return (GSM7_SINGLE, GSM7_MULTI) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)


def gsm7_septets(text: str) -> int | None:
    """Septets the text takes in GSM-7, or None when it needs UCS-2."""
    if _NOT_GSM7.search(text) is not None:
        return None
    return len(text) + len(_GSM7_ESCAPED.findall(text))


def ucs2_units(text: str) -> int:
    """UTF-16 code units: what a UCS-2 (in practice UTF-16) SMS counts."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Measure:
    """How a text goes out: its encoding, its length in that encoding and its segments."""

    encoding: Encoding
    units: int
    segments: int


#: Any character GSM-7 cannot send, and those it sends through the extension table.
_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENSION))) + "]")
_GSM7_ESCAPED = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENSION))) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def measure(text: str) -> Measure:
    """The encoding and number of segments an SMS of this text costs."""
    # Counted without walking the text character by character unless a two-unit character
    # (an escaped GSM-7 one, a surrogate pair) could straddle the end of a segment.
    if _NOT_GSM7.search(text) is None:
        encoding: Encoding = "GSM-7"
        wide = len(_GSM7_ESCAPED.findall(text))
    else:
        encoding, wide = "UCS-2", len(_ASTRAL.findall(text))  # as _ucs2_costs
    units = len(text) + wide
    single, multi = _limits(encoding)
    if units <= single:
        return Measure(encoding, units, 1 if text else 0)
    if not wide:  # every character one unit: the parts are simply full
        return Measure(encoding, units, -(-units // multi))
    encoding, costs = _costs(text)
    return Measure(encoding, units, len(_segment_ends(costs, single, multi)))


def ucs2_characters(text: str) -> tuple[str, ...]:
    """The characters GSM-7 cannot send, each once, in order of appearance: why a text is UCS-2."""
    return tuple(dict.fromkeys(_NOT_GSM7.findall(text)))


def split_segments(text: str) -> list[str]:
    """The text as the network splits it into segments (no segments for an empty text)."""
    encoding, costs = _costs(text)
    ends = _segment_ends(costs, *_limits(encoding))
    return [text[start:end] for start, end in zip([0, *ends], ends, strict=False)]


def fits_one_segment(text: str) -> bool:
    """True when the text goes out as a single SMS."""
    return measure(text).segments <= 1


def default_budget(encoding: str) -> int:
    """Segments a reply may cost in this encoding: 2 for GSM-7, 3 for UCS-2."""
    try:
        return _DEFAULT_BUDGETS[encoding]
    except KeyError:
        raise ValueError(f"unknown SMS encoding: {encoding!r}") from None


def fits_budget(text: str, budget: int) -> bool:
    """True when the text goes out in at most `budget` segments."""
    return measure(text).segments <= budget


# Typographic characters with a GSM-7 equivalent that means the same thing.
_REPLACEMENTS: dict[int, str | None] = {
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u2039\u203a"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"), '"'),
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-"),
    **dict.fromkeys(map(ord, "\u00a0\u202f\u205f\u3000\t"), " "),
    **dict.fromkeys(range(0x2000, 0x200B), " "),  # en quad to hair space
    ord("\u2026"): "...",
    ord("\u2022"): "*",
    ord("\u2028"): "\n",
    ord("\u2029"): "\n\n",
    # Invisible: zero-width space, soft hyphen and byte-order mark.
    **dict.fromkeys(map(ord, "\u200b\u00ad\ufeff"), None),
}
_BIDI_CONTROLS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_JOINERS = "\u200c\u200d"
_DECOMPOSED_LATIN = re.compile("[A-Za-z][\u0300-\u036f]+")
_SPACES = re.compile(" {2,}")


def _is_gsm7(character: str) -> bool:
    """True for a character GSM-7 can send (basic or extension table)."""
    return character in GSM7_BASIC or character in GSM7_EXTENSION


def _drop_joiners(text: str) -> str:
    """Remove ZWJ/ZWNJ between GSM-7 characters (or text edges), where they join nothing."""
    # Between letters of Bengali, Burmese or Arabic-script text, or inside an emoji sequence,
    # a joiner changes what is shown, so it stays.
    if not any(joiner in text for joiner in _JOINERS):
        return text
    kept: list[str] = []
    for index, character in enumerate(text):
        if character in _JOINERS:
            before = text[index - 1] if index else " "
            after = text[index + 1] if index + 1 < len(text) else " "
            if _is_gsm7(before) and _is_gsm7(after):
                continue
        kept.append(character)
    return "".join(kept)


#: Every block that holds a letter of bidirectional class R or AL (a test checks the whole of
#: Unicode): a text with none of these, such as Burmese or English, is not walked at all.
RIGHT_TO_LEFT_BLOCKS = re.compile(
    "[\u0590-\u08ff\u200f\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]"
)


def _has_right_to_left(text: str) -> bool:
    """True when the text holds right-to-left letters (Arabic, Hebrew, Thaana...)."""
    if RIGHT_TO_LEFT_BLOCKS.search(text) is None:
        return False
    return any(
        unicodedata.bidirectional(character) in ("R", "AL")
        for character in text
        if character not in _BIDI_CONTROLS  # the right-to-left mark is itself of class R
    )


def normalise_for_sms(text: str) -> str:
    """Replace characters that force UCS-2 by accident with GSM-7 ones meaning the same."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_REPLACEMENTS)
    if not _has_right_to_left(text):
        # Directional marks only matter when right-to-left text is mixed with other text.
        text = text.translate(dict.fromkeys(map(ord, _BIDI_CONTROLS)))
    text = _DECOMPOSED_LATIN.sub(lambda match: unicodedata.normalize("NFC", match[0]), text)
    text = _drop_joiners(text)
    return _SPACES.sub(" ", text)


class AccentPolicy(enum.Enum):
    """What to do with accented Latin letters that GSM-7 lacks."""

    KEEP = "keep"  # leave them; the message may go out in UCS-2
    TRANSLITERATE = "transliterate"  # use the base letter when that keeps the reply GSM-7


# Latin letters without a canonical decomposition, and their usual plain spelling.
_LATIN_PLAIN: dict[str, str] = {
    "œ": "oe",
    "Œ": "OE",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ħ": "h",
    "Ħ": "H",
    "\u0131": "i",  # dotless i
    "ŀ": "l",
    "Ŀ": "L",
    "ŧ": "t",
    "Ŧ": "T",
    "þ": "th",
    "Þ": "Th",
    "ð": "d",
    "Ð": "D",
}


def _plain_latin(character: str) -> str:
    """A Latin letter GSM-7 lacks as its base letter(s); any other character unchanged."""
    if _is_gsm7(character) or not unicodedata.name(character, "").startswith("LATIN "):
        return character
    if character in _LATIN_PLAIN:
        return _LATIN_PLAIN[character]
    decomposed = unicodedata.normalize("NFKD", character)
    base = "".join(part for part in decomposed if not unicodedata.combining(part))
    return base if base and all(_is_gsm7(part) for part in base) else character


def _transliterate(text: str) -> str:
    """Latin letters GSM-7 lacks replaced by their base letters, marks on Latin letters dropped."""
    plain: list[str] = []
    after_latin = False
    for character in text:
        if unicodedata.combining(character):
            if not after_latin:
                plain.append(character)
            continue
        after_latin = unicodedata.name(character, "").startswith("LATIN ")
        plain.append(_plain_latin(character))
    return "".join(plain)


def prepare(text: str, accents: AccentPolicy) -> str:
    """Normalise a reply for SMS and, if asked and it keeps it GSM-7, drop accents GSM-7 lacks."""
    text = normalise_for_sms(text)
    if accents is AccentPolicy.TRANSLITERATE and gsm7_septets(text) is None:
        plain = _transliterate(text)
        if gsm7_septets(plain) is not None:
            return plain
    return text


# Where a page may end, strongest first. Whitespace runs end pages before them; sentence marks
# end pages after them. Burmese and Bengali sentence marks need no following space.
_PARAGRAPH, _LINE, _SENTENCE, _WORD = range(4)
_WHITESPACE = re.compile(r"\s+")
# Full stop, ? and ! (before a space, closing quotes allowed); Bengali danda and double danda,
# Burmese section mark, Arabic question mark and Arabic (Urdu) full stop.
_SENTENCE_END = re.compile("[.?!\u061f\u06d4][\"')\\]]*(?=\\s)|[\u0964\u0965\u104b\u061f\u06d4]")
_PHRASE_END = re.compile("[\u104a\u060c]")  # Burmese little section, Arabic comma
# A page ending at a paragraph, line or sentence must still fill this share of the page.
_MIN_FILL = 0.5
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
_VIRAMA = 9


def _cuts(window: str) -> dict[int, int]:
    """Positions where a page may end in this text, each with its strongest level."""
    cuts: dict[int, int] = {}

    def offer(position: int, level: int) -> None:
        if position > 0:
            cuts[position] = min(level, cuts.get(position, level))

    for match in _WHITESPACE.finditer(window):
        newlines = match[0].count("\n")
        offer(match.start(), _PARAGRAPH if newlines > 1 else _LINE if newlines else _WORD)
    for match in _SENTENCE_END.finditer(window):
        offer(match.end(), _SENTENCE)
    for match in _PHRASE_END.finditer(window):
        offer(match.end(), _WORD)
    return cuts


def _inside_cluster(text: str, position: int) -> bool:
    """True when cutting here would tear a letter from its marks, a conjunct or an emoji."""
    before, after = text[position - 1], text[position]
    return (
        unicodedata.category(after) in ("Mn", "Mc", "Me")
        or after in _JOINERS
        or before == "\u200d"
        or unicodedata.combining(before) == _VIRAMA
        or ord(after) in _EMOJI_MODIFIERS
        or (ord(before) in _REGIONAL_INDICATORS and ord(after) in _REGIONAL_INDICATORS)
    )


def _allowed(text: str, budget: int | None) -> bool:
    """Within `budget` segments, or (None) within the default budget of its own encoding."""
    cost = measure(text)
    return cost.segments <= (budget if budget is not None else default_budget(cost.encoding))


def _longest_prefix(text: str, budget: int | None, more: str) -> int:
    """Length of the longest prefix that, with the prompt, fits the budget."""
    # Fitting is monotonic in the prefix length even across a switch from GSM-7 to UCS-2:
    # the switch can only make a prefix stop fitting earlier, never fit again later.
    most = budget if budget is not None else max(default_budget("GSM-7"), default_budget("UCS-2"))
    low, high = 0, min(len(text), most * GSM7_SINGLE)
    while low < high:
        middle = (low + high + 1) // 2
        if _allowed(text[:middle] + more, budget):
            low = middle
        else:
            high = middle - 1
    return low


def _page_end(text: str, budget: int | None, more: str) -> int:
    """Where the next page (followed by the prompt) ends in a text too long for one page."""
    limit = _longest_prefix(text, budget, more)
    if limit == 0:
        raise ValueError(f"the prompt {more!r} leaves no room in {budget} segment(s)")
    cuts = {
        position: level for position, level in _cuts(text[: limit + 1]).items() if position <= limit
    }
    for level in (_PARAGRAPH, _LINE, _SENTENCE, _WORD):
        ends = [position for position, strength in cuts.items() if strength <= level]
        if ends and (level == _WORD or max(ends) >= limit * _MIN_FILL):
            return max(ends)
    # A single word longer than a page: cut inside it, keeping letters with their marks.
    return next((cut for cut in range(limit, 0, -1) if not _inside_cluster(text, cut)), limit)


def paginate(text: str, budget: int | None, more: str) -> list[str]:
    """Split a reply into pages of at most `budget` segments, all but the last ending in `more`."""
    # `more` is appended as given (say "\nMORE") and each page is measured, in its own encoding,
    # with it. Pages end at the strongest boundary that still fills half a page: paragraph, line,
    # sentence, then word; inside a word only when that word alone exceeds a page. Whitespace
    # where pages meet is dropped, nothing else. A reply that fits comes back unchanged; a blank
    # one gives no pages. A budget of None holds each page to its own encoding's default, so a
    # GSM-7 page of a reply that is UCS-2 elsewhere still costs at most two segments.
    if budget is not None and budget < 1:
        raise ValueError("a page needs a budget of at least one segment")
    if not text.strip():
        return []
    if _allowed(text, budget):
        return [text]
    pages: list[str] = []
    rest = text.strip()
    while not _allowed(rest, budget):
        end = _page_end(rest, budget, more)
        pages.append(rest[:end] + more)
        rest = rest[end:].lstrip()
    pages.append(rest)
    return pages


def split_characters(text: str, limit: int) -> list[str]:
    """Split a message for a channel that counts characters (WhatsApp), not segments.

    Each part holds at most `limit` characters and ends at the strongest boundary that still
    fills half of it (paragraph, line, sentence, word), as `paginate` does; no prompt is added,
    since every part is sent at once. A text within the limit comes back whole.
    """
    if limit < 1:
        raise ValueError("a message needs room for at least one character")
    rest = text.strip()
    if not rest:
        return []
    parts: list[str] = []
    while len(rest) > limit:
        cuts = {at: level for at, level in _cuts(rest[: limit + 1]).items() if at <= limit}
        end = next(
            (
                max(ends)
                for level in (_PARAGRAPH, _LINE, _SENTENCE, _WORD)
                if (ends := [at for at, strength in cuts.items() if strength <= level])
                and (level == _WORD or max(ends) >= limit * _MIN_FILL)
            ),
            None,
        )
        if end is None:
            end = next((at for at in range(limit, 0, -1) if not _inside_cluster(rest, at)), limit)
        parts.append(rest[:end].rstrip())
        rest = rest[end:].lstrip()
    parts.append(rest)
    return parts
