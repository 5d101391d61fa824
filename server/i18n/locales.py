"""Locales without Flask: tags, negotiation in a written order, text direction from CLDR,
and the compiled catalogues (the SMS engine reads them through `catalogue`).

The order in which a locale is chosen, first match wins:
1. the locale in the URL (`/<locale>/...`, or `?lang=` on the portal's pages),
2. the subscriber's saved choice (SMS),
3. the language cookie the person set,
4. the browser's Accept-Language, negotiated with Babel,
5. the region's default locale,
6. English.
A tag that is unknown or malformed at any step is skipped, never an error.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.support import NullTranslations, Translations

from server.i18n import formats
from server.i18n.live import LIVE
from server.resources import shipped

DEFAULT_LOCALE = "en"
#: The pseudo-locale tests use to find untranslated or truncated text (development only).
#: Babel knows no "en-XA", so the never-requested CLDR locale en_US_POSIX carries it.
PSEUDO_LOCALE = "en_US_POSIX"
LOCALES_DIR = shipped("locales")
MAX_TAG_LENGTH = 35


def parse_tag(tag: str | None) -> Locale | None:
    """A Babel locale for a BCP 47 or POSIX tag ("pt-BR", "zh_Hans", "ar-SD"), or None."""
    if not tag or len(tag) > MAX_TAG_LENGTH:
        return None
    try:
        return Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def negotiate(preferred: Iterable[str], available: Sequence[str]) -> str | None:
    """The first preferred tag an available locale serves: exact, then script, then language."""
    offered = set(available)
    for tag in preferred:
        if tag.replace("-", "_") in offered:
            return tag.replace("-", "_")
        locale = parse_tag(tag)
        if locale is None:
            continue
        candidates = [str(locale)]
        if locale.script:
            candidates.append(f"{locale.language}_{locale.script}")
        candidates.append(locale.language)
        for candidate in candidates:
            if candidate in offered:
                return candidate
    return None


def choose_locale(
    available: Sequence[str],
    *,
    url: str | None = None,
    saved: str | None = None,
    cookie: str | None = None,
    accept: Sequence[str] = (),
    region_default: str | None = None,
) -> str:
    """The locale for a request or a message, following the order in this module's docstring."""
    for single in (url, saved, cookie):
        if single:
            chosen = negotiate([single], available)
            if chosen:
                return chosen
    for group in (list(accept), [region_default] if region_default else []):
        chosen = negotiate(group, available)
        if chosen:
            return chosen
    return DEFAULT_LOCALE


def script_direction(script: str) -> str:
    """'rtl' or 'ltr' for an ISO 15924 script, from CLDR's likely subtags and character order."""
    likely = get_global("likely_subtags")
    representative = likely.get(f"und_{script}") or likely.get("und", DEFAULT_LOCALE)
    locale = parse_tag(representative)
    if locale is None:
        return "ltr"
    return "rtl" if locale.character_order == "right-to-left" else "ltr"


def text_direction(locale: str, scripts: Mapping[str, str] | None = None) -> str:
    """'rtl' or 'ltr' for a locale: the script override if one is set, else CLDR's default."""
    override = (scripts or {}).get(locale)
    if override:
        return script_direction(override)
    parsed = parse_tag(locale)
    if parsed is None:
        return "ltr"
    return "rtl" if parsed.character_order == "right-to-left" else "ltr"


def html_lang(locale: str, scripts: Mapping[str, str] | None = None) -> str:
    """The BCP 47 tag for `<html lang>`, naming the script when it is not CLDR's default."""
    tag = locale.replace("_", "-")
    override = (scripts or {}).get(locale)
    return f"{tag}-{override}" if override else tag


def url_tag(locale: str) -> str:
    """How a locale appears in a URL: BCP 47 with hyphens."""
    return locale.replace("_", "-")


@functools.lru_cache(maxsize=64)
def compiled(locale: str) -> NullTranslations:
    """The compiled UI catalogue of a locale as shipped (empty for English), read once per
    process, without the translations that would not format as their source does
    (`formats`: that message is shown in the source text, never an error)."""
    loaded = Translations.load(str(LOCALES_DIR), [locale], domain="messages")
    return formats.drop_unformattable(loaded, locale)


def catalogue(locale: str) -> NullTranslations:
    """A locale's UI catalogue: the compiled one with the portal's saved translations over it.

    Not cached by callers: the saved translations change while the server runs.
    """
    return LIVE.apply(locale, compiled(locale))


def ascii_digits(text: str) -> str:
    """The text with digits of every script written as ASCII digits, nothing else changed."""
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )
