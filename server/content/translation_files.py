"""Content translations as gettext .po files: one file per locale, exported and imported back.

Each translatable field of current content is one message: msgctxt `entity:id:field`, msgid the
source text, msgstr the translation. A stale translation goes out `fuzzy`; the `draft` flag
marks a translation still waiting for review. Importing checks every message against today's
content and applies the good ones; the others are reported with their line numbers.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, write_po
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.content import search, store
from server.content.kinds import KINDS
from server.content.translation_checks import SMS_NOTE, check_translation
from server.models.content import Resource
from server.models.translations import Translation, TranslationStatus, source_digest

#: The flag a translator sets on a message whose translation still needs a native review.
DRAFT_FLAG = "draft"
FUZZY_FLAG = "fuzzy"
STALE_NOTE = "The source changed since this translation: check it, then remove the fuzzy flag."
MARKDOWN_NOTE = "Markdown: no HTML; links only to https:, tel: or mailto: addresses"
#: Fields written in Markdown (rendered through server.content.markup).
MARKDOWN_FIELDS = frozenset(
    {(kind.name, name) for kind in KINDS for name in kind.markdown}
    | {(parts.entity, name) for kind in KINDS for parts in kind.parts for name in parts.markdown}
)
#: Fields that go out by SMS, so must fit one segment.
_SMS_FIELDS = frozenset(
    (parts.entity, name) for kind in KINDS for parts in kind.parts for name in parts.sms
)
#: Fields the conversation sends by SMS (any length: long ones are paged).
TEXTED_FIELDS = frozenset(
    {(kind.name, name) for kind in KINDS for name in kind.texted}
    | {(parts.entity, name) for kind in KINDS for parts in kind.parts for name in parts.texted}
    | _SMS_FIELDS
)
#: Per entity: how a note to translators names it.
_LABELS = {kind.name: kind.label for kind in KINDS} | {
    parts.entity: parts.label for kind in KINDS for parts in kind.parts
}
#: Per part entity: the entity of the record it is part of (a place's is its resource's).
PART_OF = {parts.entity: kind.name for kind in KINDS for parts in kind.parts}
_HEADER_COMMENT = (
    "# Refuge content translations (LANGUAGE).\n"
    "# One message per field: msgctxt names it (kind:id:field); change only msgstr.\n"
    "# A fuzzy message's source changed since it was translated: check it, remove `fuzzy`.\n"
    "# Add the `draft` flag to a translation that still needs a native speaker's review."
)
_TEAM = "Refuge translators <translators@refuge.invalid>"
_WIDTH = 100


class TranslationFileError(Exception):
    """A translation file that cannot be read at all; `line` says where when known."""

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class ContentField:
    """One translatable field of one current record, with its source text."""

    entity: str
    entity_id: str
    field: str
    source: str
    source_locale: str

    @property
    def key(self) -> tuple[str, str, str]:
        """How translations of this field are stored: entity, entity id, field."""
        return (self.entity, self.entity_id, self.field)

    @property
    def context(self) -> str:
        """The msgctxt: stable across exports as long as the record and field exist."""
        return f"{self.entity}:{self.entity_id}:{self.field}"

    @property
    def sms(self) -> bool:
        """True for a text that goes out by SMS (a checklist step's), so fits one segment."""
        return (self.entity, self.field) in _SMS_FIELDS

    @property
    def texted(self) -> bool:
        """True for a text the conversation sends by SMS, whatever its length."""
        return (self.entity, self.field) in TEXTED_FIELDS


def content_fields(session: Session) -> list[ContentField]:
    """Every non-empty translatable field of current content (nothing retired or retracted)."""
    found: list[ContentField] = []
    for kind in KINDS:
        current = select(kind.model).where(kind.current(kind.model)).order_by(kind.key_column())
        if kind.parts:  # the canonical form reads the parts: load them with the rows
            current = current.options(selectinload("*"))
        row: Any
        for row in session.scalars(current):
            row_id = kind.key_of(row)
            texts = [(kind.name, row_id, name, getattr(row, name)) for name in kind.translatable]
            data = kind.canonical(row) if kind.parts else {}
            texts += [
                (parts.entity, part_id, name, text)
                for parts in kind.parts
                for part_id, sources in parts.sources(row_id, data).items()
                for name, text in sources.items()
            ]
            found.extend(
                ContentField(entity, id_, name, text, row.source_locale)
                for entity, id_, name, text in texts
                if text and text.strip()
            )
    return found


def _translations(session: Session, locale: str) -> dict[tuple[str, str, str], Translation]:
    rows = session.scalars(select(Translation).where(Translation.locale == locale))
    return {(row.entity, row.entity_id, row.field): row for row in rows}


def _comments(item: ContentField) -> list[str]:
    comments = [f"{_LABELS[item.entity]} {item.field} ({item.entity_id})"]
    if (item.entity, item.field) in MARKDOWN_FIELDS:
        comments.append(MARKDOWN_NOTE)
    if item.sms:
        comments.append(SMS_NOTE)
    return comments


def export_po(session: Session, locale: str, *, now: datetime | None = None) -> Catalog:
    """A catalogue of every content field not written in `locale`, with its translation."""
    locale = locale.replace("-", "_")
    try:
        Locale.parse(locale)
    except (ValueError, TypeError, UnknownLocaleError):
        raise TranslationFileError(None, f"unknown locale {locale!r}") from None
    when = now or store.utcnow()
    catalog = Catalog(
        locale=locale,
        header_comment=_HEADER_COMMENT,
        project="Refuge",
        version="content",
        msgid_bugs_address="translators@refuge.invalid",
        creation_date=when,
        revision_date=when,
        last_translator=_TEAM,
        language_team=_TEAM,
        charset="utf-8",
        fuzzy=False,
    )
    existing = _translations(session, locale)
    for item in content_fields(session):
        if item.source_locale == locale:
            continue
        row = existing.get(item.key)
        comments, flags = _comments(item), []
        if row is not None and row.text and row.is_stale(item.source):
            flags.append(FUZZY_FLAG)
            comments.append(STALE_NOTE)
        if row is not None and row.text and row.status is TranslationStatus.DRAFT:
            flags.append(DRAFT_FLAG)
        message = catalog.add(
            item.source,
            framed(row.text, item.source) if row is not None and row.text else "",
            flags=flags,
            auto_comments=comments,
            context=item.context,
        )
        message.flags.discard("python-format")  # content is never a format string
    return catalog


def framed(text: str, source: str) -> str:
    """The text, starting and ending with a newline exactly when the source does (msgfmt's rule)."""
    if source.startswith("\n") != text.startswith("\n"):
        text = "\n" + text if source.startswith("\n") else text.lstrip("\n")
    if source.endswith("\n") != text.endswith("\n"):
        text = text + "\n" if source.endswith("\n") else text.rstrip("\n")
    return text


def po_bytes(catalog: Catalog) -> bytes:
    """A catalogue as the bytes of a .po file."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=_WIDTH)
    return buffer.getvalue()


def write_po_file(catalog: Catalog, path: Path) -> None:
    """Write a catalogue to a .po file."""
    path.write_bytes(po_bytes(catalog))


# --- Reading ----------------------------------------------------------------------------------

_STRING = r'"(?:[^"\\]|\\.)*"'
_KEYWORD_LINE = re.compile(rf"(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)[ \t]+{_STRING}")
_CONTINUATION = re.compile(_STRING)
#: After each keyword, the keywords that may come next (None: the start of the file).
_NEXT: dict[str | None, frozenset[str]] = {
    None: frozenset({"msgctxt", "msgid"}),
    "msgctxt": frozenset({"msgid"}),
    "msgid": frozenset({"msgid_plural", "msgstr"}),
    "msgid_plural": frozenset({"msgstr[]"}),
    "msgstr": frozenset({"msgctxt", "msgid"}),
    "msgstr[]": frozenset({"msgstr[]", "msgctxt", "msgid"}),
}


def _check_syntax(lines: list[str]) -> None:
    """Refuse what Babel would read silently wrong: bad quoting, keywords out of order."""
    state: str | None = None
    last = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword = _KEYWORD_LINE.fullmatch(line)
        if keyword is None:
            if _CONTINUATION.fullmatch(line) and state is not None:
                continue
            raise TranslationFileError(number, f"not a valid .po line: {line[:60]!r}")
        name = "msgstr[]" if keyword.group(1).startswith("msgstr[") else keyword.group(1)
        if name not in _NEXT[state]:
            expected = " or ".join(sorted(_NEXT[state]))
            raise TranslationFileError(number, f"{name} where {expected} was expected")
        state, last = name, number
    if state not in {None, "msgstr", "msgstr[]"}:
        raise TranslationFileError(last, "the file ends inside a message (no msgstr)")


def read_catalog(source: Path | str | bytes) -> Catalog:
    """Read a .po file (a path or its bytes); a broken one raises TranslationFileError."""
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as exc:
        raise TranslationFileError(None, f"cannot read the file: {exc.strerror}") from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TranslationFileError(line, "not UTF-8 text: save the file as UTF-8") from None
    lines = text.splitlines()
    _check_syntax(lines)
    try:
        return read_po(lines, abort_invalid=True, ignore_obsolete=True)
    except PoFileError as exc:
        reason = str(exc).rsplit(" on ", 1)[0]
        raise TranslationFileError(exc.lineno + 1, reason) from None
    except (ValueError, TypeError) as exc:
        raise TranslationFileError(None, f"cannot read the header: {exc}") from None


def _refusal(message: Message, text: str, item: ContentField | None, locale: str) -> str | None:
    """Why one translated message cannot be applied to its field, or None."""
    source = message.id if isinstance(message.id, str) else None
    found = check_translation(item, text, locale, source=source, context=message.context)
    return found.reason if found else None


# --- Importing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A message that was not applied, and why."""

    line: int
    context: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did, message by message."""

    locale: str
    applied: int = 0
    unchanged: int = 0
    skipped_fuzzy: int = 0
    skipped_empty: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def summary(self) -> str:
        """One line of counts."""
        return (
            f"{self.applied} applied, {self.unchanged} unchanged, {len(self.refused)} refused, "
            f"{self.skipped_fuzzy} fuzzy skipped, {self.skipped_empty} empty skipped"
        )


def import_po(
    session: Session,
    source: Path | str | bytes,
    *,
    locale: str | None = None,
    now: datetime,
    author: uuid.UUID | None = None,
    may_review: bool = True,
) -> ImportReport:
    """Apply a translated .po file: good messages are written, the others reported by line.

    A message without the `draft` flag is stored reviewed, unless `may_review` is False (a
    portal account that may not review): then everything it uploads stays a draft.
    """
    catalog = read_catalog(source)
    target = (locale or catalog.locale_identifier or "").replace("-", "_")
    if not target:
        raise TranslationFileError(None, "the file names no language: give its locale")
    fields = {item.context: item for item in content_fields(session)}
    existing = _translations(session, target)
    report = ImportReport(locale=target)
    resources: set[str] = set()
    for message in catalog:
        if not message.id:
            continue  # the header
        line = message.lineno or 0
        if not isinstance(message.id, str) or not isinstance(message.string, str):
            report.refused.append(Refusal(line, message.context, "plural forms are not used"))
            continue
        text = message.string
        if not text.strip():
            report.skipped_empty += 1
            continue
        if message.fuzzy:
            report.skipped_fuzzy += 1
            continue
        item = fields.get(message.context or "")
        reason = _refusal(message, text, item, target)
        if item is None or reason is not None:
            report.refused.append(Refusal(line, message.context, reason or "unknown field"))
            continue
        draft = DRAFT_FLAG in message.flags or not may_review
        status = TranslationStatus.DRAFT if draft else TranslationStatus.REVIEWED
        if _upsert(session, existing, item, target, text, status, now, author):
            report.applied += 1
            if "resource" in (item.entity, PART_OF.get(item.entity)):
                resources.add(item.entity_id.split("/", 1)[0])
        else:
            report.unchanged += 1
    reindex(session, resources)
    return report


def reindex(session: Session, resources: set[str]) -> None:
    """Search documents hold each locale's resource texts: rewrite those of these resources."""
    session.flush()
    if resources:
        search.reindex_all(
            session, session.scalars(select(Resource).where(Resource.id.in_(resources)))
        )
        session.flush()


def save_translation(
    session: Session,
    item: ContentField,
    locale: str,
    text: str,
    *,
    now: datetime,
    author: uuid.UUID | None,
) -> bool:
    """Store one checked translation as a draft by `author`; False when nothing changed."""
    existing = _translations(session, locale)
    changed = _upsert(session, existing, item, locale, text, TranslationStatus.DRAFT, now, author)
    if changed and item.entity == "resource":
        reindex(session, {item.entity_id})
    return changed


def _upsert(
    session: Session,
    existing: dict[tuple[str, str, str], Translation],
    item: ContentField,
    locale: str,
    text: str,
    status: TranslationStatus,
    now: datetime,
    author: uuid.UUID | None = None,
) -> bool:
    """Write one translation (without surrounding newlines); False when it is already there."""
    digest = source_digest(item.source)
    row = existing.get(item.key)
    if row is not None and framed(row.text, item.source) == framed(text, item.source):
        text = row.text  # at most the newlines around it differ
    else:
        text = text.strip("\n")
    if row is not None and (row.text, row.source_digest, row.status) == (text, digest, status):
        return False
    if row is None:
        row = Translation(entity=item.entity, entity_id=item.entity_id, field=item.field)
        row.locale = locale
        session.add(row)
        existing[item.key] = row
    row.text, row.source_digest, row.status, row.updated_at = text, digest, status, now
    row.author_id = author
    row.reviewer_id = None  # a changed text waits for its own review
    return True
