"""Phone numbers: any written form normalised to E.164 with `phonenumbers`, or refused.

Refuge accepts a number when it has a possible length for its country, not only when the
library's metadata knows its range: new mobile ranges appear before the metadata does, and
refusing a real number can cost someone their alert.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """Input that is not a usable phone number; the message says why, without repeating it."""


MAX_PHONE_INPUT = 64
WHATSAPP_PREFIX = "whatsapp:"


@dataclass(frozen=True, repr=False)
class PhoneNumber:
    """A normalised number and the channel its text came on."""

    e164: str
    whatsapp: bool = False

    def __repr__(self) -> str:
        return "PhoneNumber(<redacted>)"

    @property
    def address(self) -> str:
        """The provider address: the number, prefixed for WhatsApp."""
        return f"{WHATSAPP_PREFIX}{self.e164}" if self.whatsapp else self.e164


_PHONE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "has no valid country code",
    phonenumbers.ValidationResult.TOO_SHORT: "is too short",
    phonenumbers.ValidationResult.TOO_LONG: "is too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "has the wrong number of digits",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is a local number; add the area code",
}


_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
        "the phone number needs its country code (start with + and the code)"
    ),
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "the phone number is too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "the phone number is too short",
    phonenumbers.NumberParseException.TOO_LONG: "the phone number is too long",
}
#: Re-parsing an E.164 string can strip one more trunk zero ("+44 0 0 7700 ..."); a few passes
#: reach the form that parses to itself, so one person always gets one blind index.
MAX_NORMALISING_PASSES = 4


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, "that is not a phone number")
        raise InvalidPhoneNumber(reason) from None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        explanation = _PHONE_REASONS.get(reason, "is not a possible phone number")
        raise InvalidPhoneNumber(f"the phone number {explanation}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize_phone(raw: str, default_region: str | None = None) -> PhoneNumber:
    """Normalise any written form of a number to E.164, or raise InvalidPhoneNumber."""
    text = raw.strip()
    whatsapp = text.lower().startswith(WHATSAPP_PREFIX)
    if whatsapp:
        text = text[len(WHATSAPP_PREFIX) :].strip()
    if not text:
        raise InvalidPhoneNumber("the phone number is empty")
    if len(text) > MAX_PHONE_INPUT:
        raise InvalidPhoneNumber("the phone number is too long")
    # Digits of any script (Arabic-Indic, Burmese, ...) become ASCII digits first.
    text = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)
    e164 = _e164(_parse(text, default_region.upper() if default_region else None))
    if e164 == text:  # already the form that parses to itself (what providers send)
        return PhoneNumber(e164=e164, whatsapp=whatsapp)
    for _ in range(MAX_NORMALISING_PASSES):
        again = _e164(_parse(e164, None))
        if again == e164:
            return PhoneNumber(e164=e164, whatsapp=whatsapp)
        e164 = again
    raise InvalidPhoneNumber("the phone number is not a possible phone number")


#: Kinds of number that cannot receive a text (landlines, free and premium services).
_NEVER_TEXTED = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOICEMAIL,
        phonenumbers.PhoneNumberType.PAGER,
    }
)


def can_receive_texts(e164: str) -> bool:
    """Whether a number may receive texts: False only for a kind known never to (a landline).

    A number the metadata does not know (a new mobile range) may: see the module's docstring.
    """
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) not in _NEVER_TEXTED
