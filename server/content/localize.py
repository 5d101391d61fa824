"""Content in the person's language: each field along the locale's fallback chain.

A field shows the first language in the chain that has it. A translation made from an older
source text is stale: per-locale policy either shows it marked, or moves on down the chain.
Whatever is shown says which language it is in, so a page can tell the reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Localization, StalePolicy
from server.models.translations import Translation, source_digest

# Translators: shown above content that is not in the reader's language; %(language)s is
# the name of the language it is shown in, in that language's own words where possible.
FALLBACK_NOTICE = lazy_gettext("This text is not yet translated; it is shown in %(language)s.")
# Translators: marks a translation made from an older version of the original text.
STALE_NOTICE = lazy_gettext("This translation may be out of date.")


@dataclass(frozen=True)
class Localized:
    """A field's text as shown, and in which language."""

    text: str
    locale: str
    stale: bool = False

    def is_fallback(self, wanted: str) -> bool:
        """True when the text is not in the language the reader asked for."""
        return self.locale != wanted


Key = tuple[str, str, str]  # entity id, field, locale


def load_translations(
    session: Session, entity: str, entity_ids: Iterable[str], locales: Sequence[str]
) -> dict[Key, Translation]:
    """The translations of many records at once (one query for a whole list page)."""
    ids = list(entity_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(Translation).where(
            Translation.entity == entity,
            Translation.entity_id.in_(ids),
            Translation.locale.in_(list(locales)),
        )
    )
    return {(row.entity_id, row.field, row.locale): row for row in rows}


def pick(
    translations: dict[Key, Translation],
    entity_id: str,
    field: str,
    source_text: str,
    source_locale: str,
    locale: str,
    localization: Localization,
) -> Localized:
    """The text of one field in the best language the chain offers."""
    for candidate in localization.chain(locale):
        if candidate == source_locale:
            return Localized(source_text, source_locale)
        row = translations.get((entity_id, field, candidate))
        if row is None or not row.text:
            continue
        stale = row.source_digest != source_digest(source_text)
        if stale and localization.stale(candidate) is StalePolicy.FALLBACK:
            continue
        return Localized(row.text, candidate, stale)
    return Localized(source_text, source_locale)
