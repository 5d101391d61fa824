"""How far each locale is translated: UI catalogue, content fields, and what its SMS texts cost.

The UI numbers come from `locales/<locale>/LC_MESSAGES/messages.po` as it is on disk; a missing
or half-edited catalogue is reported as a problem on its row, never as an error.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.content import store
from server.content.localize import Key, pick
from server.content.translation_files import (
    DRAFT_FLAG,
    TranslationFileError,
    content_fields,
    read_catalog,
)
from server.i18n.locales import DEFAULT_LOCALE, LOCALES_DIR
from server.models.translations import Translation, TranslationStatus
from server.segments import measure


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
            "ui_reviewed": self.ui_reviewed,
            "ui_percent": self.ui_percent,
            "content_reviewed": self.content_reviewed,
            "content_percent": self.content_percent,
            "sms_gsm7_percent": self.sms_gsm7_percent,
            "sms_average_segments": self.sms_average_segments,
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
    sms: tuple[str, ...] = ()


def _is_sms(message: Message) -> bool:
    return bool(message.context and message.context.startswith("sms"))


def _first(value: str | tuple[str, ...] | list[str] | None) -> str:
    if isinstance(value, tuple | list):
        return value[0] if value else ""
    return value or ""


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return not message.fuzzy and all(strings)


def _read(path: Path) -> Catalog:
    try:
        return read_catalog(path)
    except TranslationFileError as exc:
        where = f"{path.parent.parent.name}/{path.parent.name}/{path.name}"
        raise TranslationFileError(exc.line, f"{where}: {exc}") from None


def ui_status(locale: str, locales_dir: Path = LOCALES_DIR) -> _Ui:
    """A locale's UI catalogue: messages, translated, drafted, fuzzy, and its SMS texts."""
    pot = locales_dir / "messages.pot"
    po = locales_dir / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    try:
        if locale == DEFAULT_LOCALE or not po.exists():
            template = [m for m in _read(pot) if m.id] if pot.exists() else []
            sms = tuple(_first(m.id) for m in template if _is_sms(m))
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
        sms=tuple(
            _first(m.string) if _translated(m) else _first(m.id) for m in messages if _is_sms(m)
        ),
    )


def status(
    session: Session, settings: Settings, *, locales_dir: Path = LOCALES_DIR
) -> list[LocaleStatus]:
    """Coverage of every configured locale, the source language (English) first."""
    localization = settings.localization
    fields = content_fields(session)
    sources = {item.key: item.source for item in fields}
    by_locale: dict[str, dict[tuple[str, str, str], Translation]] = {}
    for row in session.scalars(select(Translation)):
        if row.text and (row.entity, row.entity_id, row.field) in sources:
            by_locale.setdefault(row.locale, {})[(row.entity, row.entity_id, row.field)] = row
    steps: dict[Key, Translation] = {
        (row.entity_id, row.field, row.locale): row
        for held in by_locale.values()
        for row in held.values()
        if row.entity == store.STEP_ENTITY
    }
    sms_fields = [item for item in fields if item.sms]
    rows: list[LocaleStatus] = []
    locales = sorted(localization.locales, key=lambda locale: locale != DEFAULT_LOCALE)
    for locale in locales:
        wanted = [item for item in fields if item.source_locale != locale]
        held = by_locale.get(locale, {})
        have = [held[item.key] for item in wanted if item.key in held]
        ui = ui_status(locale, locales_dir)
        texts = [
            pick(steps, i.entity_id, i.field, i.source, i.source_locale, locale, localization).text
            for i in sms_fields
        ]
        costs = [measure(text) for text in [*texts, *ui.sms] if text]
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
                sms_texts=len(costs),
                sms_gsm7=sum(1 for cost in costs if cost.encoding == "GSM-7"),
                sms_segments=sum(cost.segments for cost in costs),
            )
        )
    return rows


def _key(row: Translation) -> tuple[str, str, str]:
    return (row.entity, row.entity_id, row.field)


_COLUMNS = ("locale", "UI", "content", "stale", "draft", "reviewed", "SMS GSM-7", "segments/SMS")


def format_table(rows: list[LocaleStatus]) -> str:
    """A plain-text table, one locale a line, then any catalogue problems."""
    cells = [list(_COLUMNS)]
    for row in rows:
        ui = f"{row.ui_percent:.0f}% {row.ui_translated}/{row.ui_total}"
        if row.ui_draft:
            ui += f" ({row.ui_draft} draft)"
        cells.append(
            [
                f"{row.locale} (source)" if row.source else row.locale,
                "?" if row.ui_problem and not row.ui_total else ui,
                f"{row.content_percent:.0f}% {row.content_translated}/{row.content_total}",
                str(row.content_stale),
                str(row.content_draft),
                str(row.content_reviewed),
                f"{row.sms_gsm7_percent:.0f}%",
                f"{row.sms_average_segments:.2f}",
            ]
        )
    widths = [max(len(line[column]) for line in cells) for column in range(len(_COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    lines += [f"{row.locale}: UI: {row.ui_problem}" for row in rows if row.ui_problem]
    return "\n".join(lines)


def as_json(rows: list[LocaleStatus]) -> str:
    """The rows as a JSON array."""
    return json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False)
