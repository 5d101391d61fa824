"""The UI catalogue as a translator works on it: the template's messages, the shipped
translation of each, the one saved in the portal over it, and which messages go out by SMS.

Saving checks placeholders and markup with the rule `make check` applies to the shipped
catalogues (`server.placeholders`), and, because a saved text goes live with no developer
reading it while templates mark translations safe, refuses an angle bracket the source lacks
(half a tag escapes the placeholder rule). SMS keywords are shown but not saved here: a keyword must
not mean two commands in any two languages, which only a release's tests can promise.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content.translation_files import (
    DRAFT_FLAG,
    FUZZY_FLAG,
    ImportReport,
    Refusal,
    framed,
    read_catalog,
)
from server.i18n.locales import LOCALES_DIR
from server.models.translations import TranslationStatus
from server.models.ui_translations import UiTranslation
from server.placeholders import placeholder_problems

#: The context of SMS command words (see `server.conversation.vocabulary`).
KEYWORD_CONTEXT = "sms keyword"
#: Sources whose messages are sent by SMS: the conversation and what check-ins send.
SMS_SOURCES = ("conversation", "checkins/texts.py", "content/labels.py")
_SERVER = Path(__file__).resolve().parent.parent
_KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_pgettext": ((1, "c"), 2),
    "lazy_ngettext": (1, 2),
}
KEY_LENGTH = 16

Key = tuple[str, str]  # (msgctxt or "", msgid)


@dataclass(frozen=True)
class UiMessage:
    """One message of the template: its key, plural, notes to translators, and where it goes."""

    msgctxt: str
    msgid: str
    msgid_plural: str | None
    comments: tuple[str, ...]
    sms: bool

    @property
    def key(self) -> Key:
        """How gettext finds it."""
        return (self.msgctxt, self.msgid)

    @property
    def token(self) -> str:
        """A short stable name for forms and links."""
        return message_token(self.msgctxt, self.msgid)

    @property
    def keyword(self) -> bool:
        """An SMS command word: not changed outside a release."""
        return self.msgctxt == KEYWORD_CONTEXT


def message_token(msgctxt: str, msgid: str) -> str:
    """A digest naming a message in a form or a link (msgids are long and multi-line)."""
    digest = hashlib.sha256(f"{msgctxt}\x04{msgid}".encode()).hexdigest()
    return "ui-" + digest[:KEY_LENGTH]


def _first(value: str | Sequence[str] | None) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return value[0] if value else ""


@functools.lru_cache(maxsize=1)
def sms_keys() -> frozenset[Key]:
    """Messages written in the modules that compose SMS replies and check-in texts."""
    found: set[Key] = set()
    for name in SMS_SOURCES:
        root = _SERVER / name
        paths = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for path in paths:
            for _line, message, _comments, context in extract_from_file(
                "python", str(path), keywords=_KEYWORDS
            ):
                found.add((context or "", _first(message)))
    return frozenset(found)


@functools.lru_cache(maxsize=4)
def template(locales_dir: Path = LOCALES_DIR) -> tuple[UiMessage, ...]:
    """The messages of `messages.pot`, in its order."""
    sms = sms_keys()
    messages = []
    for message in read_catalog(locales_dir / "messages.pot"):
        if not message.id:
            continue
        msgid = _first(message.id)
        plural = message.id[1] if isinstance(message.id, tuple | list) else None
        context = message.context or ""
        messages.append(
            UiMessage(
                context,
                msgid,
                plural,
                tuple(message.auto_comments),
                context.startswith("sms") or (context, msgid) in sms,
            )
        )
    return tuple(messages)


def by_token(token: str, locales_dir: Path = LOCALES_DIR) -> UiMessage | None:
    """The template's message a token names, or None."""
    for message in template(locales_dir):
        if message.token == token:
            return message
    return None


def po_path(locale: str, locales_dir: Path = LOCALES_DIR) -> Path:
    """Where a locale's shipped catalogue lives."""
    return locales_dir / locale / "LC_MESSAGES" / "messages.po"


@functools.lru_cache(maxsize=32)
def shipped(locale: str, locales_dir: Path = LOCALES_DIR) -> dict[Key, Message]:
    """The locale's shipped translations by key (empty when it has no catalogue)."""
    path = po_path(locale, locales_dir)
    if not path.exists():
        return {}
    return {
        (message.context or "", _first(message.id)): message
        for message in read_catalog(path)
        if message.id
    }


def saved(session: Session, locale: str) -> dict[Key, UiTranslation]:
    """The locale's translations saved in the portal, by key."""
    rows = session.scalars(select(UiTranslation).where(UiTranslation.locale == locale))
    return {(row.msgctxt, row.msgid): row for row in rows}


def shipped_forms(message: Message | None) -> tuple[str, ...]:
    """A shipped message's translation forms; none when untranslated or fuzzy."""
    if message is None or message.fuzzy:
        return ()
    strings = _strings(message)
    return strings if all(strings) else ()


def _strings(message: Message) -> tuple[str, ...]:
    """A message's msgstr forms, an empty one as ""."""
    raw = message.string
    if isinstance(raw, tuple | list):
        return tuple(form or "" for form in raw)
    return (raw or "",)


def plural_count(locale: str) -> int:
    """How many plural forms the locale writes."""
    return Catalog(locale=locale).num_plurals


def problems(message: UiMessage, forms: Sequence[str]) -> list[str]:
    """What a translation breaks: the check `make check` runs on the shipped catalogues."""
    msgid: str | tuple[str, str] = (
        (message.msgid, message.msgid_plural) if message.msgid_plural else message.msgid
    )
    string: str | tuple[str, ...] = tuple(forms) if message.msgid_plural else forms[0]
    return placeholder_problems(Message(msgid, string, context=message.msgctxt or None))


def save(
    session: Session,
    locale: str,
    message: UiMessage,
    forms: Sequence[str],
    *,
    author: uuid.UUID | None,
    status: TranslationStatus = TranslationStatus.DRAFT,
    now: datetime,
) -> bool:
    """Store a translation that passed `check`; False when nothing changed."""
    row = saved(session, locale).get(message.key)
    forms = [framed(form, message.msgid) for form in forms]  # newlines at the ends as msgfmt wants
    text = forms[0]
    plural = list(forms) if message.msgid_plural else []
    if row is not None and (row.text, list(row.plural_texts), row.status) == (text, plural, status):
        return False
    if row is None:
        row = UiTranslation(locale=locale, msgctxt=message.msgctxt, msgid=message.msgid)
        session.add(row)
    row.msgid_plural = message.msgid_plural
    row.text, row.plural_texts, row.status, row.updated_at = text, plural, status, now
    row.author_id = author
    # An upload by a reviewer may be reviewed already; any other change waits for a review.
    row.reviewer_id = author if status is TranslationStatus.REVIEWED else None
    session.flush()
    return True


def review(
    session: Session, locale: str, message: UiMessage, reviewer: uuid.UUID, now: datetime
) -> bool:
    """Mark the locale's translation of a message reviewed (the shipped one is saved first).

    False when there is no translation to review. The caller has refused the author.
    """
    row = saved(session, locale).get(message.key)
    if row is None:
        forms = shipped_forms(shipped(locale).get(message.key))
        if not forms:
            return False
        row = UiTranslation(
            locale=locale,
            msgctxt=message.msgctxt,
            msgid=message.msgid,
            msgid_plural=message.msgid_plural,
            text=forms[0],
            plural_texts=list(forms) if message.msgid_plural else [],
        )
        session.add(row)
    row.status, row.reviewer_id, row.updated_at = TranslationStatus.REVIEWED, reviewer, now
    session.flush()
    return True


def merged_catalog(session: Session, locale: str) -> Catalog:
    """The locale's shipped catalogue with the portal's saved translations in it.

    What `refuge i18n export-ui` writes and the workspace downloads: put back in
    `server/locales/<locale>/LC_MESSAGES/messages.po`, it ships them with the next release.
    """
    catalog = read_catalog(po_path(locale))
    for row in saved(session, locale).values():
        message = catalog.get(row.msgid, context=row.msgctxt or None)
        if message is None:
            continue  # a message the template no longer has
        message.string = tuple(row.forms) if message.pluralizable else row.text
        message.flags.discard(FUZZY_FLAG)
        if row.status is TranslationStatus.DRAFT:
            message.flags.add(DRAFT_FLAG)
        else:
            message.flags.discard(DRAFT_FLAG)
    return catalog


def import_catalog(
    session: Session,
    data: bytes,
    locale: str,
    *,
    author: uuid.UUID | None,
    may_review: bool,
    now: datetime,
) -> ImportReport:
    """Save every translated message of an uploaded UI catalogue that differs from today's.

    Checked by `check`, as the page checks; fuzzy and empty messages are skipped.
    A message without the `draft` flag is saved reviewed only when `may_review`.
    """
    catalog = read_catalog(data)
    messages = {message.key: message for message in template()}
    report = ImportReport(locale=locale)
    current = shipped(locale)
    stored = saved(session, locale)
    for found in catalog:
        if not found.id:
            continue
        line = found.lineno or 0
        key = (found.context or "", _first(found.id))
        forms = list(_strings(found))
        if not all(form.strip() for form in forms):
            report.skipped_empty += 1
            continue
        if found.fuzzy:
            report.skipped_fuzzy += 1
            continue
        message = messages.get(key)
        refused = check(message, forms, locale)
        if message is None or refused is not None:
            reason = refused.reason if refused else "unknown message"
            report.refused.append(Refusal(line, found.context, reason))
            continue
        reviewed = may_review and DRAFT_FLAG not in found.flags
        status = TranslationStatus.REVIEWED if reviewed else TranslationStatus.DRAFT
        as_shipped = tuple(forms) == shipped_forms(current.get(key))
        if key not in stored and as_shipped and not reviewed:
            report.unchanged += 1  # nothing to lay over the shipped text
        elif save(session, locale, message, forms, author=author, status=status, now=now):
            report.applied += 1
        else:
            report.unchanged += 1
    return report


class Problem(enum.Enum):
    """Why a UI translation is refused (the same for an uploaded file and the page)."""

    UNKNOWN_MESSAGE = "unknown_message"
    KEYWORD = "keyword"
    PLURAL_FORMS = "plural_forms"
    PLACEHOLDERS = "placeholders"
    MARKUP = "markup"


#: Characters that start or end markup. Templates mark translations safe, and a saved one goes
#: live with no developer reading it: it may hold only the angle brackets its source holds.
_BRACKETS = "<>"


@dataclass(frozen=True)
class Check:
    """A refused UI translation: the kind of problem, and the reason in words."""

    problem: Problem
    reason: str


def check(message: UiMessage | None, forms: Sequence[str], locale: str) -> Check | None:
    """Why `forms` cannot be the locale's translation of `message`, or None when they can."""
    if message is None:
        return Check(Problem.UNKNOWN_MESSAGE, "no such message in this version of Refuge")
    if message.keyword:
        return Check(Problem.KEYWORD, "SMS keywords change only with a release")
    if len(forms) != (plural_count(locale) if message.msgid_plural else 1):
        return Check(Problem.PLURAL_FORMS, "the number of plural forms does not match")
    sources = (message.msgid, message.msgid_plural or message.msgid)
    for form in forms:
        for bracket in _BRACKETS:
            if form.count(bracket) > max(source.count(bracket) for source in sources):
                return Check(Problem.MARKUP, f"a {bracket} the source does not have")
    found = problems(message, forms)
    if found:
        detail = found[0].split(": ", 1)[-1]
        return Check(
            Problem.PLACEHOLDERS, f"placeholders or markup differ from the source: {detail}"
        )
    return None
