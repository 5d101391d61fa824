"""UI translations saved in the portal, laid over the compiled catalogues in this process.

Pure and process-wide, like the compiled catalogues it sits over: `catalogue()` in
`server.i18n.locales` (the SMS conversation's, the check-in texts') and Flask-Babel's pages both
read through `LIVE`. What it holds is loaded from the database by `server.i18n.overrides`, which
decides when to look again; this module only keeps the rows and merges them.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from babel.support import NullTranslations, Translations

#: gettext's key for a message with a context (GNUTranslations.CONTEXT).
_CONTEXT = "%s\x04%s"


@dataclass(frozen=True)
class Override:
    """One saved translation: the message's key and every msgstr form."""

    locale: str
    msgctxt: str
    msgid: str
    msgid_plural: str | None
    forms: tuple[str, ...]


def _germanic(count: float | Decimal) -> int:
    return int(count != 1)


def merged(base: NullTranslations, overrides: Iterable[Override]) -> NullTranslations:
    """A copy of `base` whose messages named by `overrides` read as the overrides say."""
    if isinstance(base, Translations) and hasattr(base, "_catalog"):
        result = copy.copy(base)
        catalog = dict(base._catalog)
    else:  # a locale with no compiled catalogue yet: English stands behind the overrides
        result = Translations()
        result.plural = _germanic
        catalog = {}
    for item in overrides:
        key = _CONTEXT % (item.msgctxt, item.msgid) if item.msgctxt else item.msgid
        if item.msgid_plural:
            for index, form in enumerate(item.forms):
                catalog[(key, index)] = form
        elif item.forms:
            catalog[key] = item.forms[0]
    result._catalog = catalog
    return result


class LiveOverrides:
    """The overrides this process uses, the database and version they came from, and when."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.source: str | None = None
        self.token: str | None = None
        self.checked_at = float("-inf")
        self._by_locale: dict[str, tuple[Override, ...]] = {}
        self._merged: dict[tuple[str, int], NullTranslations] = {}
        self._generation = 0

    def due(self, source: str, now: float, every: float) -> bool:
        """Whether to look at the database's version: another database, or `every` has passed."""
        return source != self.source or now - self.checked_at >= every

    def checked(self, now: float) -> None:
        """Remember that the version was just looked at (and had not changed)."""
        self.checked_at = now

    def install(self, source: str, token: str | None, rows: Iterable[Override], now: float) -> None:
        """Use these overrides from now on; catalogues merged before are dropped."""
        by_locale: dict[str, list[Override]] = {}
        for row in rows:
            by_locale.setdefault(row.locale, []).append(row)
        with self._lock:
            self._by_locale = {locale: tuple(items) for locale, items in by_locale.items()}
            self._generation += 1
            self._merged = {}
            self.source, self.token, self.checked_at = source, token, now

    def forget(self) -> None:
        """Drop every override and where they came from: the next refresh reloads them."""
        with self._lock:
            self._by_locale, self._merged = {}, {}
            self._generation += 1
            self.source, self.token, self.checked_at = None, None, float("-inf")

    def of(self, locale: str) -> tuple[Override, ...]:
        """The overrides held for a locale."""
        return self._by_locale.get(locale, ())

    def apply(self, locale: str, base: NullTranslations) -> NullTranslations:
        """`base` with this locale's overrides over it (itself when there are none)."""
        overrides = self._by_locale.get(locale)
        if not overrides:
            return base
        key = (locale, self._generation)
        found = self._merged.get(key)
        if found is None:
            found = merged(base, overrides)
            with self._lock:
                if key[1] == self._generation:
                    self._merged[key] = found
        return found


#: This process's overrides (one process, one set: like its compiled catalogues).
LIVE = LiveOverrides()
