"""What every text Refuge can send by SMS costs in one locale: encoding, segments, and why.

A text is measured as it goes out: prepared for SMS with the locale's accent policy (typographic
quotes and dashes replaced, accents dropped where that keeps it GSM-7), placeholders such as
`%(time)s` counted as written. The texts are every gettext message of the modules that compose
SMS replies (`SMS_SOURCES`: the conversation, the check-in texts, the category and scope labels;
keywords included), and every content field the conversation sends (`ContentKind.texted`), each
in the language the person would really get it in (the fallback chain and stale policy).

`refuge i18n status` summarises these; the translator's workspace shows each one next to its
translation, with the characters that forced UCS-2 named, so a translator can avoid them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Localization, Settings
from server.content.localize import Key, pick
from server.content.markup import plain_text
from server.content.translation_files import (
    MARKDOWN_FIELDS,
    TranslationFileError,
    content_fields,
    read_catalog,
)
from server.i18n.locales import DEFAULT_LOCALE, LOCALES_DIR
from server.models.translations import Translation
from server.resources import shipped
from server.segments import (
    AccentPolicy,
    Encoding,
    default_budget,
    measure,
    prepare,
    ucs2_characters,
)

#: Where the messages that can go out by SMS are written, inside the `server` package.
SMS_SOURCES: tuple[tuple[str, ...], ...] = (
    ("conversation",),
    ("checkins",),
    ("content", "labels.py"),
)

#: The gettext functions extraction knows (as `make i18n-extract` and `server.i18n.tools`).
_KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_pgettext": ((1, "c"), 2),
    "lazy_ngettext": (1, 2),
    "N_": None,
}

#: The origin of a UI catalogue message (a content field's is its msgctxt).
UI = "ui"

#: A gettext message as a catalogue names it: (context, msgid).
MessageKey = tuple[str | None, str]


@dataclass(frozen=True)
class SmsText:
    """One text that can go out by SMS: its source (msgid or content field) and its text."""

    msgid: str
    text: str
    #: "ui" for a catalogue message, else the content field's msgctxt (entity:id:field).
    origin: str = UI
    #: A text that must fit one segment (a checklist step's SMS), not be paged.
    one_segment: bool = False


@dataclass(frozen=True)
class StringCost:
    """What one text costs by SMS."""

    msgid: str
    text: str
    origin: str
    encoding: Encoding
    units: int
    segments: int
    #: The characters GSM-7 cannot send, each once: why the text goes out in UCS-2.
    forcing: tuple[str, ...]
    #: The segments it may cost: one for a step's SMS, else the locale's reply budget (a
    #: longer text is paged with MORE, which costs the person another message to ask for).
    budget: int

    @property
    def over_budget(self) -> bool:
        """True when the text costs more segments than it may."""
        return self.segments > self.budget


@dataclass(frozen=True)
class CostSummary:
    """A locale's SMS texts at a glance: how many, how many GSM-7, the expensive ones."""

    texts: int
    gsm7: int
    segments: int
    two_or_more: int
    three_or_more: int
    worst: StringCost | None
    #: The worst UI message and the worst content field apart: a bulletin is paged and long
    #: by nature, and would hide the costliest message a translator can shorten.
    worst_message: StringCost | None = None
    worst_content: StringCost | None = None


def _module_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for parts in SMS_SOURCES:
        path = root.joinpath(*parts)
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


@functools.lru_cache(maxsize=4)
def sms_message_keys(root: Path | None = None) -> frozenset[MessageKey]:
    """Every (context, msgid) the SMS modules pass to gettext: read from their source once."""
    keys: set[MessageKey] = set()
    for path in _module_files(root or shipped()):
        for _line, message, _comments, context in extract_from_file(
            "python", str(path), keywords=_KEYWORDS
        ):
            ids = message if isinstance(message, tuple) else (message,)
            keys.update((context, msgid) for msgid in ids if msgid)
    return frozenset(keys)


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if isinstance(value, tuple | list):
        return tuple(value)
    return (value,) if value else ()


def is_sms(message: Message, keys: frozenset[MessageKey]) -> bool:
    """True for a catalogue message that can go out by SMS (a keyword or an SMS module's)."""
    if message.context and message.context.startswith("sms"):
        return True
    return any((message.context, msgid) in keys for msgid in _strings(message.id))


def ui_texts(messages: Iterable[Message], keys: frozenset[MessageKey]) -> list[SmsText]:
    """The SMS messages of a catalogue as sent: the translation (every plural form) when it is
    done and not fuzzy, else the English msgid gettext falls back to."""
    texts: list[SmsText] = []
    for message in messages:
        if not message.id or not is_sms(message, keys):
            continue
        ids, strings = _strings(message.id), _strings(message.string)
        done = not message.fuzzy and bool(strings) and all(strings)
        texts.extend(SmsText(ids[0], text) for text in (strings if done else ids))
    return texts


def _sms_form(text: str, markdown: bool) -> str:
    """A content text as the conversation sends it: Markdown as plain text, one line a paragraph."""
    if not markdown:
        return text
    lines = (" ".join(line.split()) for line in plain_text(text).split("\n"))
    return "\n".join(line for line in lines if line)


def content_texts(session: Session, localization: Localization, locale: str) -> list[SmsText]:
    """Every content field the conversation sends, in the language `locale`'s reader gets it."""
    fields = [item for item in content_fields(session) if item.texted]
    tables: dict[str, dict[Key, Translation]] = {}
    chain = localization.chain(locale)
    for row in session.scalars(select(Translation).where(Translation.locale.in_(chain))):
        tables.setdefault(row.entity, {})[(row.entity_id, row.field, row.locale)] = row
    texts: list[SmsText] = []
    for item in fields:
        shown = pick(
            tables.get(item.entity, {}),
            item.entity_id,
            item.field,
            item.source,
            item.source_locale,
            locale,
            localization,
        )
        markdown = (item.entity, item.field) in MARKDOWN_FIELDS
        text = _sms_form(shown.text, markdown)
        texts.append(SmsText(item.source, text, item.context, one_segment=item.sms))
    return texts


def accent_policy(settings: Settings, locale: str) -> AccentPolicy:
    """The accent policy the conversation applies to SMS in this locale."""
    if locale in settings.messaging.keep_accents:
        return AccentPolicy.KEEP
    return AccentPolicy.TRANSLITERATE


def string_cost(item: SmsText, accents: AccentPolicy, budget: int | None = None) -> StringCost:
    """One text's encoding, length and segments as it would go out, and its budget (`budget`:
    the locale's `REFUGE_SMS_SEGMENT_BUDGETS`, None for the encoding's default)."""
    prepared = prepare(item.text, accents)
    cost = measure(prepared)
    return StringCost(
        msgid=item.msgid,
        text=item.text,
        origin=item.origin,
        encoding=cost.encoding,
        units=cost.units,
        segments=cost.segments,
        forcing=ucs2_characters(prepared),
        budget=1 if item.one_segment else budget or default_budget(cost.encoding),
    )


def costs(
    texts: Iterable[SmsText], accents: AccentPolicy, budget: int | None = None
) -> list[StringCost]:
    """Each non-empty text measured."""
    return [string_cost(item, accents, budget) for item in texts if item.text.strip()]


def summarize(measured: Sequence[StringCost]) -> CostSummary:
    """Counts and the worst texts (most segments, then most units; the first of equals)."""
    worst = _worst(measured)
    return CostSummary(
        texts=len(measured),
        gsm7=sum(1 for cost in measured if cost.encoding == "GSM-7"),
        segments=sum(cost.segments for cost in measured),
        two_or_more=sum(1 for cost in measured if cost.segments >= 2),
        three_or_more=sum(1 for cost in measured if cost.segments >= 3),
        worst=worst,
        worst_message=_worst([cost for cost in measured if cost.origin == UI]),
        worst_content=_worst([cost for cost in measured if cost.origin != UI]),
    )


def _worst(measured: Sequence[StringCost]) -> StringCost | None:
    return max(measured, key=lambda cost: (cost.segments, cost.units), default=None)


def catalogue_messages(locale: str, locales_dir: Path = LOCALES_DIR) -> list[Message]:
    """A locale's UI messages; the template's (English) when it has no readable catalogue."""
    po = locales_dir / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    for path in ([po] if locale != DEFAULT_LOCALE else []) + [locales_dir / "messages.pot"]:
        try:
            return [message for message in read_catalog(path) if message.id]
        except TranslationFileError:
            continue  # missing or broken: gettext falls back to English, and so does this
    return []


def locale_costs(
    session: Session,
    settings: Settings,
    locale: str,
    *,
    locales_dir: Path = LOCALES_DIR,
    keys: frozenset[MessageKey] | None = None,
) -> list[StringCost]:
    """What every text that can go out by SMS costs in `locale`: UI messages, then content."""
    found = keys if keys is not None else sms_message_keys()
    texts = ui_texts(catalogue_messages(locale, locales_dir), found)
    texts += content_texts(session, settings.localization, locale)
    return costs(texts, accent_policy(settings, locale), settings.messaging.budget(locale))
