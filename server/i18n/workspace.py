"""A translator's workspace for one locale: every UI message and content field, its source,
its translation and state, and what it costs by SMS.

The portal's pages (`server.portal.translate`) show and save through here; the checks are the
ones the `.po` imports apply (`server.placeholders` for the UI catalogue,
`server.content.translation_checks` for content), so a file and the page refuse the same.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import segments
from server.config import Settings
from server.content.translation_files import DRAFT_FLAG, ContentField, content_fields
from server.i18n import ui_catalogue
from server.models.translations import Translation, TranslationStatus

#: How many characters that forced UCS-2 a cost names.
MAX_FORCING = 12
#: A content field sent by SMS must fit one message (the checklist step's `sms`).
CONTENT_SMS_BUDGET = 1


class Catalogue(enum.Enum):
    """Which of the two catalogues an entry belongs to."""

    UI = "ui"
    CONTENT = "content"


class State(enum.Enum):
    """Where a translation stands; the workspace filters by it."""

    UNTRANSLATED = "untranslated"
    STALE = "stale"
    DRAFT = "draft"
    REVIEWED = "reviewed"


@dataclass(frozen=True)
class Cost:
    """What a text costs by SMS, against the budget it must meet."""

    encoding: str
    units: int
    segments: int
    budget: int
    forcing: tuple[str, ...]  # the characters that made it UCS-2, in order of appearance

    @property
    def over(self) -> bool:
        """True when it costs more segments than its budget."""
        return self.segments > self.budget


def accents_policy(settings: Settings, locale: str) -> segments.AccentPolicy:
    """The accent policy SMS replies in `locale` are prepared with (as the conversation does)."""
    keep = locale in settings.messaging.keep_accents
    return segments.AccentPolicy.KEEP if keep else segments.AccentPolicy.TRANSLITERATE


def cost(text: str, policy: segments.AccentPolicy, budget: int | None) -> Cost:
    """The cost of a text as it would leave: prepared for SMS, then measured."""
    prepared = segments.prepare(text, policy)
    measured = segments.measure(prepared)
    forcing: dict[str, None] = {}
    if measured.encoding == "UCS-2":
        for character in prepared:
            # Combining marks (Burmese vowel signs) are named with the letters they sit on.
            if unicodedata.category(character).startswith("M"):
                continue
            if character not in segments.GSM7_BASIC and character not in segments.GSM7_EXTENSION:
                forcing[character] = None
                if len(forcing) >= MAX_FORCING:
                    break
    limit = budget or segments.default_budget(measured.encoding)
    return Cost(measured.encoding, measured.units, measured.segments, limit, tuple(forcing))


@dataclass(frozen=True)
class Entry:
    """One translatable string in the workspace."""

    catalogue: Catalogue
    token: str  # names it in forms: a UI message's digest, or a content field's msgctxt
    label: str  # where it is used: a content field's kind and id, a UI message's context
    source: str
    source_plural: str | None
    forms: tuple[str, ...]  # the translation as it is used today (empty: untranslated)
    state: State
    comments: tuple[str, ...]
    sms: bool
    editable: bool
    author_id: object | None
    cost: Cost | None


def _state(forms: Sequence[str], status: TranslationStatus | None, stale: bool) -> State:
    if not forms:
        return State.UNTRANSLATED
    if stale:
        return State.STALE
    return State.REVIEWED if status is TranslationStatus.REVIEWED else State.DRAFT


def ui_entries(session: Session, settings: Settings, locale: str) -> list[Entry]:
    """Every UI message of the template, with the translation used today."""
    shipped = ui_catalogue.shipped(locale)
    saved = ui_catalogue.saved(session, locale)
    policy = accents_policy(settings, locale)
    budget = settings.messaging.budget(locale)
    entries = []
    for message in ui_catalogue.template():
        row = saved.get(message.key)
        po = shipped.get(message.key)
        if row is not None:
            forms, status, stale = tuple(row.forms), row.status, False
        else:
            forms = ui_catalogue.shipped_forms(po)
            draft = po is not None and DRAFT_FLAG in po.flags
            status = TranslationStatus.DRAFT if draft else TranslationStatus.REVIEWED
            stale = po is not None and po.fuzzy and bool(po.string)
            if po is not None and stale:
                forms = tuple(po.string) if isinstance(po.string, tuple) else (str(po.string),)
        entries.append(
            Entry(
                Catalogue.UI,
                message.token,
                message.msgctxt,
                message.msgid,
                message.msgid_plural,
                forms,
                _state(forms, status, stale),
                message.comments,
                message.sms,
                not message.keyword,
                row.author_id if row is not None else None,
                cost(forms[0], policy, budget) if message.sms and forms else None,
            )
        )
    return entries


def content_entries(session: Session, settings: Settings, locale: str) -> list[Entry]:
    """Every content field not written in `locale`, with its translation."""
    rows = session.scalars(select(Translation).where(Translation.locale == locale))
    held = {(row.entity, row.entity_id, row.field): row for row in rows}
    policy = accents_policy(settings, locale)
    entries = []
    for item in content_fields(session):
        if item.source_locale == locale:
            continue
        row = held.get(item.key)
        forms = (row.text,) if row is not None and row.text else ()
        stale = row is not None and row.is_stale(item.source)
        entries.append(
            Entry(
                Catalogue.CONTENT,
                item.context,
                f"{item.entity} {item.entity_id}: {item.field}",
                item.source,
                None,
                forms,
                _state(forms, row.status if row is not None else None, stale),
                (),
                item.sms,
                True,
                row.author_id if row is not None else None,
                cost(forms[0], policy, CONTENT_SMS_BUDGET) if item.sms and forms else None,
            )
        )
    return entries


def entries(
    session: Session,
    settings: Settings,
    locale: str,
    *,
    catalogue: Catalogue | None = None,
    state: State | None = None,
) -> list[Entry]:
    """The workspace's entries, of one catalogue or both, in one state or all."""
    found: list[Entry] = []
    if catalogue in {None, Catalogue.UI}:
        found += ui_entries(session, settings, locale)
    if catalogue in {None, Catalogue.CONTENT}:
        found += content_entries(session, settings, locale)
    return [entry for entry in found if state is None or entry.state is state]


def content_field(session: Session, context: str) -> ContentField | None:
    """The current content field a msgctxt names, or None."""
    for item in content_fields(session):
        if item.context == context:
            return item
    return None
