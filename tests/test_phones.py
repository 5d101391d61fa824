"""Phone numbers: every way people write one becomes one E.164 number, or a clear refusal."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from server.phones import InvalidPhoneNumber, PhoneNumber, normalize_phone

# Numbers reserved for fiction: Ofcom's 07700 900xxx and NANP's 555-01xx.
UK_MOBILE = "+447700900123"
US_NUMBER = "+12025550142"

# E.164: a country code that does not start with 0, at most 15 digits in all. Possible numbers
# can be as short as 6 digits (a 4-digit subscriber number in Germany, Austria or Iran).
E164 = re.compile(r"\+[1-9][0-9]{5,14}")
REGIONS = st.sampled_from([None, "GB", "US", "MM", "BD", "UA", "FR", "SD"])


@pytest.mark.parametrize(
    ("written", "region", "e164"),
    [
        pytest.param("+44 7700 900123", None, UK_MOBILE, id="international-spaced"),
        pytest.param("+447700900123", None, UK_MOBILE, id="e164"),
        pytest.param("  +44 7700 900123\n", None, UK_MOBILE, id="surrounding-whitespace"),
        pytest.param("07700 900123", "GB", UK_MOBILE, id="national-with-region"),
        pytest.param("07700 900123", "gb", UK_MOBILE, id="lower-case-region"),
        pytest.param("+44 (0)7700 900123", None, UK_MOBILE, id="bracketed-trunk-zero"),
        pytest.param("0044 7700 900123", "GB", UK_MOBILE, id="international-prefix"),
        pytest.param("+1 (202) 555-0142", None, US_NUMBER, id="us-international"),
        pytest.param("202-555-0142", "US", US_NUMBER, id="us-national"),
        pytest.param("+٤٤ ٧٧٠٠ ٩٠٠١٢٣", None, UK_MOBILE, id="arabic-indic-digits"),  # noqa: RUF001
        pytest.param("۰۷۷۰۰ ۹۰۰۱۲۳", "GB", UK_MOBILE, id="persian-digits"),  # noqa: RUF001
        pytest.param("+၄၄ ၇၇၀၀ ၉၀၀၁၂၃", None, UK_MOBILE, id="burmese-digits"),
        pytest.param("＋４４ ７７００ ９００１２３", None, UK_MOBILE, id="full-width"),  # noqa: RUF001
        pytest.param("𝟎𝟕𝟕𝟎𝟎 𝟗𝟎𝟎𝟏𝟐𝟑", "GB", UK_MOBILE, id="astral-plane-digits"),  # noqa: RUF001
    ],
)
def test_any_written_form_normalises_to_e164(written: str, region: str | None, e164: str) -> None:
    number = normalize_phone(written, region)
    assert number.e164 == e164
    assert not number.whatsapp
    assert number.address == e164


@pytest.mark.parametrize("written", ["whatsapp:+447700900123", "WhatsApp: +44 7700 900123"])
def test_a_whatsapp_address_keeps_its_channel(written: str) -> None:
    number = normalize_phone(written)
    assert number.e164 == UK_MOBILE
    assert number.whatsapp
    assert number.address == "whatsapp:+447700900123"


def test_the_same_number_on_sms_and_whatsapp_are_different_addresses() -> None:
    sms = normalize_phone("+447700900123")
    whatsapp = normalize_phone("whatsapp:+447700900123")
    assert sms.e164 == whatsapp.e164
    assert sms != whatsapp


@pytest.mark.parametrize(
    ("written", "region", "reason"),
    [
        pytest.param("", None, "the phone number is empty", id="empty"),
        pytest.param("   ", None, "the phone number is empty", id="blank"),
        pytest.param("whatsapp:", None, "the phone number is empty", id="whatsapp-only"),
        pytest.param("07700 900123", None, "needs its country code", id="no-region"),
        pytest.param("+44 77", None, "is too short", id="too-short"),
        pytest.param("+44 7700 900123 4567", None, "is too long", id="too-long"),
        pytest.param("hello", None, "not a phone number", id="words"),
        pytest.param("hello", "GB", "not a phone number", id="words-with-region"),
        pytest.param("07700", "GB", "is a local number; add the area code", id="local"),
        pytest.param("1" * 200, None, "is too long", id="200-digits"),
        pytest.param("x" * 200, None, "is too long", id="200-letters"),
    ],
)
def test_a_refusal_says_why(written: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match=re.escape(reason)):
        normalize_phone(written, region)


def test_a_number_with_far_too_many_digits_is_refused_as_too_long() -> None:
    # 19 digits after the country code: phonenumbers refuses it while parsing.
    with pytest.raises(InvalidPhoneNumber, match="is too long"):
        normalize_phone("+44 7700 900123 4567 8901")


@pytest.mark.parametrize(
    ("written", "region"),
    [
        ("07700 900123", None),
        ("+44 77", None),
        ("+44 7700 900123 4567", None),
        ("+44 7700 900123 4567 8901", None),
        ("202 555 014", "US"),
        ("+٤٤ ٧٧", None),  # noqa: RUF001
        ("555 0142", "US"),
        ("1" * 200, None),
    ],
)
def test_a_refusal_never_repeats_the_digits(written: str, region: str | None) -> None:
    with pytest.raises(InvalidPhoneNumber) as refused:
        normalize_phone(written, region)
    message = str(refused.value)
    assert message
    assert not any(character.isdigit() for character in message)


def test_a_phone_number_repr_does_not_reveal_the_number() -> None:
    for number in (normalize_phone(UK_MOBILE), normalize_phone("whatsapp:" + US_NUMBER)):
        shown = repr(number) + str(number)
        assert "7700" not in shown
        assert "555" not in shown
        assert "0142" not in shown
    assert repr(normalize_phone(UK_MOBILE)) == "PhoneNumber(<redacted>)"


@pytest.mark.parametrize(
    "written",
    [
        pytest.param("+44 7700 900123", id="uk-mobile"),
        pytest.param("+1 202 555 0142", id="us"),
        # Two trunk zeros: normalising strips one and gives +440770090012; normalising that
        # again strips the other and gives +44770090012, so the stored form is not a fixed point.
        pytest.param("+44 00 7700 90012", id="doubled-trunk-zero"),
    ],
)
def test_a_normalised_number_normalises_to_itself(written: str) -> None:
    number = normalize_phone(written)
    assert normalize_phone(number.e164) == number


# --- Properties ---------------------------------------------------------------------------------


def _normalised_or_refused(written: str, region: str | None) -> PhoneNumber | None:
    """The number, or None after checking that the refusal is one a person can read."""
    try:
        number = normalize_phone(written, region)
    except InvalidPhoneNumber as refused:
        message = str(refused)
        assert message.startswith(("the phone number ", "that is not a phone number"))
        assert not any(character.isdigit() for character in message)
        return None
    assert E164.fullmatch(number.e164), "not E.164"
    return number


@given(st.text(), REGIONS)
@example("+447700900123", None)
@example("¹²³", None)  # superscripts are digits to str.isdigit
def test_any_text_is_a_number_or_a_clear_refusal(written: str, region: str | None) -> None:
    _normalised_or_refused(written, region)


WRITTEN_NUMBERS = st.from_regex(r"\A(whatsapp:)?\+?[0-9][0-9 ()\-.]{0,24}\Z")


@given(WRITTEN_NUMBERS, REGIONS)
def test_any_written_digits_are_a_number_or_a_clear_refusal(
    written: str, region: str | None
) -> None:
    _normalised_or_refused(written, region)


@given(st.one_of(WRITTEN_NUMBERS, st.text()), REGIONS)
@example("+44 00 7700 90012", None)
def test_any_normalised_number_normalises_to_itself(written: str, region: str | None) -> None:
    number = _normalised_or_refused(written, region)
    if number is not None:
        assert normalize_phone(number.address) == number
        assert normalize_phone(number.e164, region).e164 == number.e164
