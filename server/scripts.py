"""Writing systems: the script a language's readers read (CLDR, or an override), and the
locale whose CLDR data writes dates for them. A leaf: settings, the i18n package and the
pure SMS engine all read it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from babel.core import get_global, parse_locale

#: Per locale, the script its people write in when CLDR's default is not theirs: Rohingya is
#: texted in Latin letters (GSM-7), not in CLDR's Hanifi Rohingya.
DEFAULT_SCRIPTS: tuple[tuple[str, str], ...] = (("rhg", "Latn"),)
#: Writes dates for readers whose script CLDR's data for their language does not use.
LATIN_DATES = "en"


@functools.lru_cache(maxsize=64)
def likely_script(tag: str) -> str | None:
    """CLDR's script for a language tag ("my": "Mymr", "rhg": "Rohg"), None when unknown."""
    try:
        language, _territory, script, *_ = parse_locale(tag.replace("-", "_"))
        if script:
            return script
        likely = get_global("likely_subtags").get(language)
        return parse_locale(likely)[2] if likely else None
    except (ValueError, TypeError):
        return None


def script_of(tag: str, overrides: Mapping[str, str]) -> str | None:
    """The script a locale's people read: its override, else CLDR's likely script."""
    return overrides.get(tag) or likely_script(tag)


def date_locale(tag: str, overrides: Mapping[str, str]) -> str:
    """The locale whose CLDR data writes dates for a locale's readers.

    Its own, unless its readers write in another script than CLDR's data for it: then
    English, so that Rohingya reads "3 Nov 2026", never a date in Hanifi or Burmese glyphs
    or CLDR's placeholder months ("3 M11 2026").
    """
    wanted = overrides.get(tag)
    if wanted is None or wanted == likely_script(tag):
        return tag
    return LATIN_DATES if wanted == "Latn" else tag
