"""How far each locale is translated: UI catalogue, content fields, and what its SMS texts cost.

The UI numbers come from `locales/<locale>/LC_MESSAGES/messages.po` as it is on disk; a missing
or half-edited catalogue is reported as a problem on its row, never as an error. Draft (the
`#, draft` flag, or a content translation not yet reviewed) and reviewed translations are
counted apart. The SMS cost covers every text that can go out by SMS (`server.i18n.costs`):
the UI messages of the conversation, keywords, and the content fields it sends.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.content.translation_files import (
    DRAFT_FLAG,
    TranslationFileError,
    content_fields,
    read_catalog,
)
from server.i18n import costs
from server.i18n.locales import DEFAULT_LOCALE, LOCALES_DIR
from server.models.translations import Translation, TranslationStatus


@dataclass(frozen=True)
class LocaleStatus:
    """One locale's coverage and SMS cost."""

    locale: str
    source: bool
    ui_total: int
    ui_translated: int
    ui_draft: int
    ui_fuzzy: int
    ui_problem: str | None
    content_total: int
    content_translated: int
    content_stale: int
    content_draft: int
    sms_texts: int
    sms_gsm7: int
    sms_segments: int
    #: Texts that cost two or more SMS, and three or more.
    sms_two_or_more: int = 0
    sms_three_or_more: int = 0
    #: The costliest text: its msgid (or source), segments and encoding; and the costliest UI
    #: message and content field apart.
    sms_worst: costs.StringCost | None = None
    sms_worst_message: costs.StringCost | None = None
    sms_worst_content: costs.StringCost | None = None

    @property
    def ui_reviewed(self) -> int:
        """UI translations without the draft flag."""
        return self.ui_translated - self.ui_draft

    @property
    def content_reviewed(self) -> int:
        """Content translations marked reviewed."""
        return self.content_translated - self.content_draft

    @property
    def ui_percent(self) -> float:
        """Share of UI messages translated (100 when there is nothing to translate)."""
        return _percent(self.ui_translated, self.ui_total)

    @property
    def content_percent(self) -> float:
        """Share of content fields translated (100 when there is nothing to translate)."""
        return _percent(self.content_translated, self.content_total)

    @property
    def sms_gsm7_percent(self) -> float:
        """Share of SMS texts that go out in GSM-7 (cheaper and longer than UCS-2)."""
        return _percent(self.sms_gsm7, self.sms_texts)

    @property
    def sms_average_segments(self) -> float:
        """Average segments an SMS text costs."""
        return round(self.sms_segments / self.sms_texts, 2) if self.sms_texts else 0.0

    def as_dict(self) -> dict[str, object]:
        """The row with its derived numbers, for JSON."""
        return {
            **asdict(self),
            "sms_worst": _cost_dict(self.sms_worst),
            "sms_worst_message": _cost_dict(self.sms_worst_message),
            "sms_worst_content": _cost_dict(self.sms_worst_content),
            "ui_reviewed": self.ui_reviewed,
            "ui_percent": self.ui_percent,
            "content_reviewed": self.content_reviewed,
            "content_percent": self.content_percent,
            "sms_gsm7_percent": self.sms_gsm7_percent,
            "sms_average_segments": self.sms_average_segments,
        }


def _cost_dict(cost: costs.StringCost | None) -> dict[str, object] | None:
    if cost is None:
        return None
    return {
        "msgid": cost.msgid,
        "text": cost.text,
        "origin": cost.origin,
        "encoding": cost.encoding,
        "units": cost.units,
        "segments": cost.segments,
        "forcing": "".join(cost.forcing),
        "budget": cost.budget,
    }


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 100.0


@dataclass(frozen=True)
class _Ui:
    total: int = 0
    translated: int = 0
    draft: int = 0
    fuzzy: int = 0
    problem: str | None = None
    sms: tuple[costs.SmsText, ...] = ()


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return not message.fuzzy and all(strings)


def _read(path: Path) -> Catalog:
    try:
        return read_catalog(path)
    except TranslationFileError as exc:
        where = f"{path.parent.parent.name}/{path.parent.name}/{path.name}"
        raise TranslationFileError(exc.line, f"{where}: {exc}") from None


def ui_status(
    locale: str,
    locales_dir: Path = LOCALES_DIR,
    keys: frozenset[costs.MessageKey] | None = None,
) -> _Ui:
    """A locale's UI catalogue: messages, translated, drafted, fuzzy, and its SMS texts.

    `keys` are the messages that can go out by SMS (default: those of the SMS modules).
    """
    keys = costs.sms_message_keys() if keys is None else keys
    pot = locales_dir / "messages.pot"
    po = locales_dir / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    try:
        if locale == DEFAULT_LOCALE or not po.exists():
            template = [m for m in _read(pot) if m.id] if pot.exists() else []
            sms = tuple(costs.ui_texts(template, keys))
            if locale == DEFAULT_LOCALE:
                return _Ui(len(template), len(template), sms=sms)
            return _Ui(len(template), problem="no catalogue yet", sms=sms)
        messages = [m for m in _read(po) if m.id]
    except TranslationFileError as exc:
        return _Ui(problem=f"cannot read the catalogue: {exc.reason}")
    done = [m for m in messages if _translated(m)]
    return _Ui(
        total=len(messages),
        translated=len(done),
        draft=sum(1 for m in done if DRAFT_FLAG in m.flags),
        fuzzy=sum(1 for m in messages if m.fuzzy),
        sms=tuple(costs.ui_texts(messages, keys)),
    )


def status(
    session: Session,
    settings: Settings,
    *,
    locales_dir: Path = LOCALES_DIR,
    keys: frozenset[costs.MessageKey] | None = None,
) -> list[LocaleStatus]:
    """Coverage of every configured locale, the source language (English) first."""
    localization = settings.localization
    fields = content_fields(session)
    sources = {item.key: item.source for item in fields}
    by_locale: dict[str, dict[tuple[str, str, str], Translation]] = {}
    for row in session.scalars(select(Translation)):
        if row.text and (row.entity, row.entity_id, row.field) in sources:
            by_locale.setdefault(row.locale, {})[(row.entity, row.entity_id, row.field)] = row
    rows: list[LocaleStatus] = []
    locales = sorted(localization.locales, key=lambda locale: locale != DEFAULT_LOCALE)
    for locale in locales:
        wanted = [item for item in fields if item.source_locale != locale]
        held = by_locale.get(locale, {})
        have = [held[item.key] for item in wanted if item.key in held]
        ui = ui_status(locale, locales_dir, keys)
        texts = [*ui.sms, *costs.content_texts(session, localization, locale)]
        accents, budget = costs.accent_policy(settings, locale), settings.messaging.budget(locale)
        sms = costs.summarize(costs.costs(texts, accents, budget))
        rows.append(
            LocaleStatus(
                locale=locale,
                source=locale == DEFAULT_LOCALE,
                ui_total=ui.total,
                ui_translated=ui.translated,
                ui_draft=ui.draft,
                ui_fuzzy=ui.fuzzy,
                ui_problem=ui.problem,
                content_total=len(wanted),
                content_translated=len(have),
                content_stale=sum(1 for t in have if t.is_stale(sources[_key(t)])),
                content_draft=sum(1 for t in have if t.status is TranslationStatus.DRAFT),
                sms_texts=sms.texts,
                sms_gsm7=sms.gsm7,
                sms_segments=sms.segments,
                sms_two_or_more=sms.two_or_more,
                sms_three_or_more=sms.three_or_more,
                sms_worst=sms.worst,
                sms_worst_message=sms.worst_message,
                sms_worst_content=sms.worst_content,
            )
        )
    return rows


def _key(row: Translation) -> tuple[str, str, str]:
    return (row.entity, row.entity_id, row.field)


_COLUMNS = (
    "locale",
    "UI",
    "UI draft",
    "UI reviewed",
    "content",
    "stale",
    "draft",
    "reviewed",
    "SMS GSM-7",
    "SMS 2+",
    "SMS 3+",
    "worst SMS",
)
#: How much of a worst text's msgid, and how many of its UCS-2 characters, a report line shows.
_SHOWN_ID = 60
_SHOWN_FORCING = 8


def _worst_cell(worst: costs.StringCost | None) -> str:
    return "-" if worst is None else f"{worst.segments} {worst.encoding}"


def _cost_line(label: str, cost: costs.StringCost) -> str:
    plural = "s" if cost.segments != 1 else ""
    line = f"{label}: {cost.segments} segment{plural}, {cost.encoding} ({cost.units} units)"
    if cost.forcing:
        shown = " ".join(cost.forcing[:_SHOWN_FORCING])
        more = " ..." if len(cost.forcing) > _SHOWN_FORCING else ""
        line += f", UCS-2 forced by {shown}{more}"
    msgid = " ".join(cost.msgid.split())
    if len(msgid) > _SHOWN_ID:
        msgid = msgid[: _SHOWN_ID - 3] + "..."
    where = "" if cost.origin == costs.UI else f"{cost.origin} "
    return f'{line}: {where}"{msgid}"'


def worst_lines(row: LocaleStatus) -> list[str]:
    """The locale's costliest UI message and content field by SMS, a line each: cost, what
    forced UCS-2, and the msgid (a content field's msgctxt first)."""
    lines = []
    if row.sms_worst_message is not None:
        lines.append(_cost_line(f"{row.locale}: worst SMS message", row.sms_worst_message))
    if row.sms_worst_content is not None:
        lines.append(_cost_line(f"{row.locale}: worst SMS content", row.sms_worst_content))
    return lines


def format_table(rows: list[LocaleStatus]) -> str:
    """A plain-text table, one locale a line, then each locale's costliest SMS message and
    content field, and any catalogue problems."""
    cells = [list(_COLUMNS)]
    for row in rows:
        unreadable = bool(row.ui_problem and not row.ui_total)
        cells.append(
            [
                f"{row.locale} (source)" if row.source else row.locale,
                "?" if unreadable else f"{row.ui_percent:.0f}% {row.ui_translated}/{row.ui_total}",
                "?" if unreadable else str(row.ui_draft),
                "?" if unreadable else str(row.ui_reviewed),
                f"{row.content_percent:.0f}% {row.content_translated}/{row.content_total}",
                str(row.content_stale),
                str(row.content_draft),
                str(row.content_reviewed),
                f"{row.sms_gsm7_percent:.0f}%",
                str(row.sms_two_or_more),
                str(row.sms_three_or_more),
                _worst_cell(row.sms_worst),
            ]
        )
    widths = [max(len(line[column]) for line in cells) for column in range(len(_COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    lines += [line for row in rows for line in worst_lines(row)]
    lines += [f"{row.locale}: UI: {row.ui_problem}" for row in rows if row.ui_problem]
    return "\n".join(lines)


def as_json(rows: list[LocaleStatus]) -> str:
    """The rows as a JSON array."""
    return json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False)
