"""SMS segments are counted exactly, replies are normalised for GSM-7 and paged within budget."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from server.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    RIGHT_TO_LEFT_BLOCKS,
    AccentPolicy,
    Measure,
    default_budget,
    fits_budget,
    fits_one_segment,
    gsm7_septets,
    measure,
    normalise_for_sms,
    paginate,
    prepare,
    split_segments,
    ucs2_units,
)

BEH = "\u0628"  # ARABIC LETTER BEH: one UTF-16 unit, not in GSM-7
EMOJI = "\U0001f600"  # two UTF-16 units (a surrogate pair)
ARABIC = "أين أقرب مستشفى؟ اتصل بالرقم 112 إذا كنت في خطر."
BURMESE = "အနီးဆုံး ဆေးရုံ ဘယ်မှာလဲ။ အန္တရာယ်ရှိရင် ၁၁၂ ကို ခေါ်ပါ။"
BENGALI = "নিকটতম হাসপাতাল কোথায়? বিপদে থাকলে ১১২ নম্বরে ফোন করুন।"
BENGALI_RAPHALA = "র\u200d্যাব"  # ZWJ selects the ra-phala form
PERSIAN_ZWNJ = "می\u200cخواهم"  # noqa: RUF001 (ZWNJ keeps the prefix apart)
PROMPTS = ["\nMORE", "\nReply MORE", "\nأرسل المزيد", "\nနောက်ထပ် MORE"]


# Exact segment boundaries


@pytest.mark.parametrize(
    ("length", "segments"), [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)]
)
def test_gsm7_holds_160_septets_alone_and_153_per_concatenated_part(
    length: int, segments: int
) -> None:
    cost = measure("a" * length)
    assert (cost.encoding, cost.units, cost.segments) == ("GSM-7", length, segments)


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_holds_70_units_alone_and_67_per_concatenated_part(length: int, segments: int) -> None:
    cost = measure(BEH * length)
    assert (cost.encoding, cost.units, cost.segments) == ("UCS-2", length, segments)


def test_every_basic_character_costs_one_septet_and_every_extension_two() -> None:
    assert len(GSM7_BASIC) == 127  # 128 positions less the escape
    assert all(gsm7_septets(character) == 1 for character in GSM7_BASIC)
    assert set(GSM7_EXTENSION) == set("^{}\\[~]|€\f")
    assert all(gsm7_septets(character) == 2 for character in GSM7_EXTENSION)


@pytest.mark.parametrize("character", ["ç", "á", "ê", "\u03b1", "\x1b", "`", BEH, EMOJI])
def test_characters_outside_gsm7_force_ucs2(character: str) -> None:
    assert gsm7_septets(character) is None
    assert measure(f"hello {character}").encoding == "UCS-2"


def test_extension_characters_cost_two_septets() -> None:
    assert measure("€" * 80) == measure("a" * 160)
    assert measure("€" * 81).segments == 2
    assert measure("a" * 159 + "{").segments == 2
    assert measure("a" * 158 + "{").segments == 1


def test_an_extension_character_is_never_split_from_its_escape() -> None:
    text = "a" * 152 + "€" + "a" * 152  # 306 septets, yet the euro cannot use septet 153
    assert measure(text).units == 306
    assert measure(text).segments == 3
    assert split_segments(text) == ["a" * 152, "€" + "a" * 151, "a"]
    assert measure("a" * 151 + "€" + "a" * 153).segments == 2  # the euro fits exactly


def test_an_emoji_is_never_split_across_segments() -> None:
    text = BEH * 66 + EMOJI + BEH * 66  # 134 units, but the pair cannot use unit 67
    assert measure(text) == Measure("UCS-2", 134, 3)
    assert split_segments(text) == [BEH * 66, EMOJI + BEH * 65, BEH]
    assert measure(BEH * 65 + EMOJI + BEH * 67).segments == 2


def test_emoji_count_two_utf16_units() -> None:
    assert ucs2_units(EMOJI) == 2
    assert measure(EMOJI * 35).segments == 1
    assert measure(EMOJI * 36).segments == 2
    assert measure("a" * 68 + EMOJI).segments == 1
    assert measure("a" * 69 + EMOJI).segments == 2


def test_fits_one_segment_follows_the_encoding() -> None:
    assert fits_one_segment("a" * 160)
    assert not fits_one_segment("a" * 160 + "ê")
    assert fits_one_segment(BEH * 70)


SEGMENT_TEXT = st.text(
    st.one_of(st.sampled_from(["a", "€", "{", " ", BEH, EMOJI]), st.characters(codec="utf-8")),
    max_size=700,
)


@given(SEGMENT_TEXT)
@example("a" * 152 + "€" * 100)
@example(BEH * 66 + EMOJI * 40)
@example("a" * 80 + BEH)
def test_split_segments_covers_the_text_and_matches_the_count(text: str) -> None:
    parts = split_segments(text)
    cost = measure(text)
    assert "".join(parts) == text
    assert len(parts) == cost.segments
    assert all(parts)
    if len(parts) > 1 and cost.encoding == "GSM-7":
        assert all((gsm7_septets(part) or 0) <= 153 for part in parts)
    elif len(parts) > 1:
        assert all(ucs2_units(part) <= 67 for part in parts)


# Budgets


def test_default_budget_is_two_gsm7_or_three_ucs2_segments() -> None:
    assert default_budget("GSM-7") == 2
    assert default_budget("UCS-2") == 3
    with pytest.raises(ValueError, match="unknown"):
        default_budget("UTF-8")


def test_fits_budget_counts_segments() -> None:
    assert fits_budget("a" * 306, 2)
    assert not fits_budget("a" * 307, 2)
    assert fits_budget(BEH * 201, 3)
    assert not fits_budget(BEH * 202, 3)


# Normalisation


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        *[(character, "'") for character in "\u2018\u2019\u201a\u201b\u2032\u2039\u203a"],
        *[(character, '"') for character in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"],
        *[(character, "-") for character in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"],
        *[(character, " ") for character in "\u00a0\u202f\u205f\u3000\t"],
        *[(chr(code), " ") for code in range(0x2000, 0x200B)],
        *[(character, "") for character in "\u200b\u200c\u200d\u200e\u200f\u00ad\ufeff"],
        *[(character, "") for character in "\u202a\u202b\u202c\u202d\u202e"],
        *[(character, "") for character in "\u2066\u2067\u2068\u2069"],
        ("\u2026", "..."),
        ("\u2022", "*"),
        ("\r\n", "\n"),
        ("\r", "\n"),
        ("\u2028", "\n"),
        ("e\u0301", "é"),
    ],
)
def test_normalise_replaces_characters_that_force_ucs2_by_accident(typed: str, sent: str) -> None:
    assert normalise_for_sms(f"go{typed}on") == f"go{sent}on"
    assert measure(normalise_for_sms(f"go{typed}on")).encoding == "GSM-7"


def test_normalise_collapses_runs_of_spaces_and_keeps_lines() -> None:
    typed = "Call\u00a0 now\t\t112\r\n\r\n\u201cSafe\u201d \u2013 open\u2026"
    assert normalise_for_sms(typed) == 'Call now 112\n\n"Safe" - open...'


@pytest.mark.parametrize(
    "text", [ARABIC, BURMESE, BENGALI, BENGALI_RAPHALA, PERSIAN_ZWNJ, "\U0001f468\u200d\U0001f469"]
)
def test_normalise_leaves_arabic_burmese_bengali_and_emoji_sequences_alone(text: str) -> None:
    assert normalise_for_sms(text) == text


def test_normalise_keeps_directional_marks_in_right_to_left_text() -> None:
    text = "اتصل بـ\u200e+44 7700 900123\u200f"
    assert normalise_for_sms(text) == text


def test_every_right_to_left_letter_of_unicode_is_in_the_blocks_looked_at() -> None:
    # The blocks spare Burmese or English replies a walk through every character; a letter
    # outside them would leave a right-to-left reply's directional marks unprotected.
    outside = [
        f"U+{point:04X}"
        for point in range(sys.maxunicode + 1)
        if unicodedata.bidirectional(chr(point)) in ("R", "AL")
        and not RIGHT_TO_LEFT_BLOCKS.match(chr(point))
    ]
    assert outside == []


LETTERS = st.one_of(
    st.characters(categories=["L", "M", "Nd"], min_codepoint=0x0600, max_codepoint=0x06FF),
    st.characters(categories=["L", "M", "Nd"], min_codepoint=0x0980, max_codepoint=0x09FF),
    st.characters(categories=["L", "M", "Nd"], min_codepoint=0x1000, max_codepoint=0x109F),
)


@given(st.lists(st.text(LETTERS, min_size=1), max_size=30).map(" ".join))
def test_normalise_never_touches_arabic_burmese_or_bengali_letters(text: str) -> None:
    assert normalise_for_sms(text) == text


@given(st.text(st.characters(codec="utf-8"), max_size=300))
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise_for_sms(text)
    assert normalise_for_sms(once) == once


@given(st.text(st.sampled_from(sorted((GSM7_BASIC | GSM7_EXTENSION) - {"\r"})), max_size=300))
def test_normalise_leaves_gsm7_text_alone_but_for_runs_of_spaces(text: str) -> None:
    assert normalise_for_sms(text) == re.sub(" {2,}", " ", text)


# Accents

FRENCH = "Où est l\u2019hôpital\u202f? Ça coûte combien\u2009?"


def test_transliteration_keeps_the_accents_gsm7_has() -> None:
    sent = prepare(FRENCH, AccentPolicy.TRANSLITERATE)
    assert sent == "Où est l'hopital ? Ça coute combien ?"
    assert measure(sent).encoding == "GSM-7"


def test_keeping_accents_only_normalises_punctuation() -> None:
    sent = prepare(FRENCH, AccentPolicy.KEEP)
    assert sent == "Où est l'hôpital ? Ça coûte combien ?"
    assert measure(sent).encoding == "UCS-2"


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("ça", "ca"),
        ("fête âge rôle île sûr", "fete age role ile sur"),
        ("Noël naïve", "Noel naive"),
        ("cœur Œuvre", "coeur OEuvre"),
        ("Łódź", "Lodz"),
        ("São Tomé", "Sao Tomé"),
        ("Ànimo Ñandú", "Animo Ñandu"),
        ("ho\u0302pital", "hopital"),
        ("Việt Nam", "Viet Nam"),
    ],
)
def test_transliteration_uses_base_letters_for_accents_gsm7_lacks(typed: str, sent: str) -> None:
    assert prepare(typed, AccentPolicy.TRANSLITERATE) == sent


def test_gsm7_accented_letters_survive_transliteration() -> None:
    kept = "éèùìòàäöñüÄÖÑÜÅåÆæØøßÉÇ"
    assert prepare(kept + " ê", AccentPolicy.TRANSLITERATE) == kept + " e"


@pytest.mark.parametrize("other", [ARABIC, EMOJI, "\u03b1"])
def test_accents_are_kept_when_other_characters_force_ucs2_anyway(other: str) -> None:
    text = f"hôpital {other}"
    assert prepare(text, AccentPolicy.TRANSLITERATE) == text


# Paging

EN_PARAGRAPHS = [
    "Shelter: St Mary's Hall, 12 Church Road. Open all night. Beds, food and hot showers for all.",
    "Legal advice: Law Centre, 3 Mill Lane, Mon-Fri 9-5. Free and confidential, interpreters too.",
    "Medical help: Walk-in clinic at 40 High Street, every day. No ID or address is ever needed.",
]


def _bodies(pages: list[str], more: str) -> list[str]:
    """The pages without their prompts, checking every page but the last has one."""
    for page in pages[:-1]:
        assert page.endswith(more)
    return [page.removesuffix(more) for page in pages[:-1]] + pages[-1:]


def _assert_round_trip(text: str, bodies: list[str]) -> None:
    """The bodies are the text in order, missing only whitespace where pages meet."""
    position = 0
    for body in bodies:
        while position < len(text) and text[position].isspace():
            position += 1
        assert body
        assert text[position : position + len(body)] == body
        position += len(body)
    assert not text[position:].strip()


def test_a_reply_that_fits_is_one_page_without_prompt() -> None:
    text = " ".join(EN_PARAGRAPHS[:2])
    assert paginate(text, 2, "\nMORE") == [text]
    assert paginate(BEH * 201, 3, "\nMORE") == [BEH * 201]


def test_a_blank_reply_has_no_pages() -> None:
    assert paginate("", 1, "\nMORE") == []
    assert paginate(" \n ", 1, "\nMORE") == []


def test_paging_needs_room_for_the_prompt() -> None:
    with pytest.raises(ValueError, match="budget"):
        paginate("a" * 200, 0, "\nMORE")
    with pytest.raises(ValueError, match="prompt"):
        paginate("a" * 200, 1, "M" * 160)


def test_english_pages_break_between_paragraphs() -> None:
    text = "\n\n".join(EN_PARAGRAPHS)
    more = "\nReply MORE"
    assert paginate(text, 1, more) == [
        EN_PARAGRAPHS[0] + more,
        EN_PARAGRAPHS[1] + more,
        EN_PARAGRAPHS[2],
    ]


def test_english_pages_break_between_sentences_within_a_paragraph() -> None:
    text = " ".join(EN_PARAGRAPHS)
    pages = paginate(text, 1, "\nMORE")
    assert len(pages) == 2
    assert pages[0].startswith(EN_PARAGRAPHS[0] + " Legal advice")
    assert all(body.endswith(".") for body in _bodies(pages, "\nMORE"))
    assert all(measure(page).segments == 1 for page in pages)
    _assert_round_trip(text, _bodies(pages, "\nMORE"))


def test_a_short_first_paragraph_does_not_waste_a_page() -> None:
    text = "Hello.\n\n" + " ".join(EN_PARAGRAPHS)
    pages = paginate(text, 1, "\nMORE")
    assert pages[0].startswith("Hello.\n\nShelter")
    assert pages[0].removesuffix("\nMORE").endswith(".")


def test_pages_break_between_words_when_a_sentence_is_too_long() -> None:
    text = " ".join(["shelter"] * 60)
    pages = paginate(text, 1, "\nMORE")
    assert all(
        body.split(" ") == ["shelter"] * len(body.split(" ")) for body in _bodies(pages, "\nMORE")
    )
    _assert_round_trip(text, _bodies(pages, "\nMORE"))


def test_only_a_word_longer_than_a_page_is_split_inside() -> None:
    text = "see " + "x" * 400
    pages = paginate(text, 1, "\nMORE")
    assert pages == ["see\nMORE", "x" * 155 + "\nMORE", "x" * 155 + "\nMORE", "x" * 90]


def test_arabic_pages_break_after_sentences_and_stay_within_ucs2_budget() -> None:
    text = " ".join([ARABIC, "المأوى مفتوح طوال الليل.", "الطعام مجاني للجميع؟", ARABIC])
    more = "\nأرسل المزيد"
    pages = paginate(text, 1, more)
    assert len(pages) > 1
    assert all(measure(page).encoding == "UCS-2" and measure(page).segments == 1 for page in pages)
    assert all(body[-1] in ".؟" for body in _bodies(pages, more))
    _assert_round_trip(text, _bodies(pages, more))


def test_burmese_pages_break_after_the_section_mark_without_spaces() -> None:
    sentence = "အနီးဆုံးဆေးရုံဘယ်မှာလဲ။"
    text = sentence * 8
    pages = paginate(text, 1, "\nMORE")
    assert len(pages) > 1
    assert all(body.endswith("။") for body in _bodies(pages, "\nMORE"))
    assert "".join(_bodies(pages, "\nMORE")) == text


def test_each_page_is_measured_in_its_own_encoding() -> None:
    english = " ".join(EN_PARAGRAPHS)
    text = english + "\n\n" + ARABIC
    pages = paginate(text, 2, "\nMORE")
    assert [measure(page).encoding for page in pages] == ["GSM-7", "UCS-2"]
    assert pages == [english + "\nMORE", ARABIC]


def test_a_word_split_keeps_letters_with_their_marks() -> None:
    bengali_word = "কি" * 100  # KA + vowel sign I, no spaces
    pages = paginate(bengali_word, 1, "\nMORE")
    assert all(body.startswith("ক") for body in _bodies(pages, "\nMORE"))
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 20
    pages = paginate(family, 1, "\nMORE")
    assert all(body.startswith("\U0001f468") for body in _bodies(pages, "\nMORE"))
    assert all(body.endswith("\U0001f467") for body in _bodies(pages, "\nMORE"))


def test_extension_characters_are_counted_when_paging() -> None:
    text = " ".join(["{x}"] * 80)  # 80 words of four septets
    pages = paginate(text, 1, "\nMORE")
    assert all((gsm7_septets(page) or 161) <= 160 for page in pages)
    assert all(measure(page).segments == 1 for page in pages)
    _assert_round_trip(text, _bodies(pages, "\nMORE"))


PAGE_PIECES = st.one_of(
    st.sampled_from(
        [
            *"abcdefghij ABC 0123 ., ?! \n€{}",
            "\n\n",
            *"بتثجحخ مسن ؟\u06d4،",
            *"ကခဂငစ ျြွ ်္ ။၊",
            *"কখগঘ িীু ্ ।",
            EMOJI,
            "\U0001f44d\U0001f3fd",
            "\u200d",
            "\U0001f1ec\U0001f1e7",
            "\u0301",
        ]
    ),
    st.characters(codec="utf-8"),
)
WORDS = st.sampled_from(
    [*EN_PARAGRAPHS, ARABIC, BURMESE, BENGALI, "x" * 170, BEH * 80, EMOJI * 50, "{€}" * 30]
)
SEPARATORS = st.sampled_from([" ", "\n", "\n\n", " \n ", ""])
LONG_TEXT = st.lists(st.tuples(WORDS, SEPARATORS), max_size=15).map(
    lambda parts: "".join(word + separator for word, separator in parts)
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.lists(PAGE_PIECES, max_size=3000).map("".join), LONG_TEXT),
    st.integers(min_value=1, max_value=3),
    st.sampled_from(PROMPTS),
)
@example("a" * 3000, 1, "\nMORE")
@example((BEH * 66 + EMOJI) * 40, 1, "\nأرسل المزيد")
def test_paging_keeps_every_page_within_budget_and_loses_nothing(
    text: str, budget: int, more: str
) -> None:
    text = text[:3000]
    pages = paginate(text, budget, more)
    if not text.strip():
        assert pages == []
        return
    if fits_budget(text, budget):
        assert pages == [text]
        return
    assert all(fits_budget(page, budget) for page in pages)
    bodies = _bodies(pages, more)
    assert all(body.strip() == body != "" for body in bodies)
    _assert_round_trip(text, bodies)
