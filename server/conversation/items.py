"""How one item reads in a reply: a resource, a bulletin, a context note, each whole.

Pure: the port's plain data and the person's language in, text out. Nothing here cuts a text
short; `engine.reply` pages a long answer and MORE continues it where the page ended.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, time
from typing import Protocol

from babel import Locale
from babel.dates import format_date, format_time

from server import segments
from server.conversation.engine import Situation, dated, translate
from server.conversation.port import BulletinLine, ContextLine, ResourceLine
from server.i18n.locales import parse_tag
from server.scripts import date_locale

#: RFC 5545 day codes in the order of Babel's day indexes (0 is Monday).
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _cldr(locale: str) -> Locale:
    """The reader's CLDR data, English when CLDR does not know the language."""
    return parse_tag(locale) or Locale("en")


def when(locale: str, value: date) -> str:
    """A date as the reader writes it ("3 Nov 2026") in CLDR's script for the language (the
    web's; a reply by SMS follows the script its people read: `engine.dated`)."""
    try:
        return str(format_date(value, format="d MMM yyyy", locale=_cldr(locale)))
    except (ValueError, LookupError):
        return value.isoformat()


class Opening(Protocol):
    """Opening hours as the SMS port and the web shelf both hold them."""

    @property
    def days(self) -> tuple[str, ...]: ...
    @property
    def opens(self) -> time | None: ...
    @property
    def closes(self) -> time | None: ...
    @property
    def note(self) -> str: ...


def _clock(locale: str, value: time) -> str:
    try:
        return str(format_time(value, "HH:mm", locale=_cldr(locale)))
    except (ValueError, LookupError):
        return value.strftime("%H:%M")


@functools.lru_cache(maxsize=64)
def _day_names(locale: str) -> dict[str, str]:
    names = _cldr(locale).days["format"]["abbreviated"]
    return {code: str(names[index]) for index, code in enumerate(DAY_CODES)}


@functools.lru_cache(maxsize=256)
def language_name(code: str, reader: str) -> str:
    """A language named in the reader's language (CLDR), in English when CLDR has no name."""
    language = parse_tag(code)
    key = language.language if language is not None else code
    for names in (_cldr(reader).languages, Locale("en").languages):
        if key in names:
            return str(names[key])
    return code


def _days(locale: str, days: tuple[str, ...]) -> str:
    """Days as ranges where they follow each other: "Mon-Fri", "Mon, Wed"."""
    names = _day_names(locale)
    known = sorted({DAY_CODES.index(day) for day in days if day in DAY_CODES})
    runs: list[list[int]] = []
    for index in known:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    parts = []
    for run in runs:
        first, last = names[DAY_CODES[run[0]]], names[DAY_CODES[run[-1]]]
        if len(run) == 1:
            parts.append(first)
        else:
            parts.append(f"{first}-{last}" if len(run) > 2 else f"{first}, {last}")
    return ", ".join(parts)


def opening_hours(locale: str, hours: Iterable[Opening]) -> str:
    """Opening hours on one line in the reader's language: "Mon-Sat 08:00-16:00 (note)"."""
    shown = []
    for each in hours:
        days = _days(locale, each.days)
        said = days
        if each.opens is not None and each.closes is not None:
            times = f"{_clock(locale, each.opens)}-{_clock(locale, each.closes)}"
            said = f"{days} {times}".strip()
        if each.note:
            said = f"{said} ({each.note})" if said else each.note
        if said:
            shown.append(said)
    return "; ".join(shown)


def resource(situation: Situation, line: ResourceLine) -> str:
    """A resource: name, whether it is closed, how to reach it, who checked it and when, its
    opening hours and languages."""
    t = translate(situation)
    parts = [line.name, *([line.applies] if line.applies else [])]
    if line.outdated:
        parts.append(outdated(situation))
    if line.closed and line.status_note:
        parts.append(t.gettext("Temporarily closed: %(note)s") % {"note": line.status_note})
    elif line.closed:
        parts.append(t.gettext("Temporarily closed"))
    if line.call_first and line.phone:
        parts.append(t.gettext("Call first: %(phone)s") % {"phone": line.phone})
    elif line.phone:
        parts.append(line.phone)
    if line.whatsapp and line.whatsapp != line.phone:
        parts.append(t.gettext("WhatsApp: %(phone)s") % {"phone": line.whatsapp})
    checked = dated(situation, line.verified_on)
    if line.verified_by:
        values = {"date": checked, "who": line.verified_by}
        if line.stale:
            parts.append(t.gettext("Checked %(date)s by %(who)s, may be out of date") % values)
        else:
            parts.append(t.gettext("Checked %(date)s by %(who)s") % values)
    elif line.stale:
        parts.append(t.gettext("Checked %(date)s, may be out of date") % {"date": checked})
    else:
        parts.append(t.gettext("Checked %(date)s") % {"date": checked})
    # Day and language names from the CLDR data of the script the reader reads (Rohingya in
    # Latin letters: English names, never Hanifi glyphs).
    reader = date_locale(situation.locale, dict(situation.scripts))
    hours = opening_hours(reader, line.hours)
    if hours:
        parts.append(t.gettext("Open: %(hours)s") % {"hours": hours})
    if line.languages:
        names = ", ".join(language_name(code, reader) for code in line.languages)
        parts.append(t.gettext("Languages: %(names)s") % {"names": names})
    extras = (
        (line.fees, t.gettext("Cost: %(text)s")),
        (line.eligibility, t.gettext("For: %(text)s")),
        (line.application_process, t.gettext("How: %(text)s")),
    )
    for text, label in extras:
        extra = label % {"text": " ".join(text.split())} if text.strip() else ""
        if extra and _fits_one_page(situation, "\n".join([*parts, extra])):
            parts.append(extra)
    return "\n".join(parts)


def _fits_one_page(situation: Situation, text: str) -> bool:
    """True when the text goes out as one page (SMS) or one message (WhatsApp).

    Cost, eligibility and how to apply are extras: a reply carries each only while the resource
    still reads on one page, so none of them pushes its phone number or hours to a MORE; the
    resource's web page says them whole.
    """
    prepared = segments.prepare(text, situation.accents)
    if situation.message_limit is not None:
        return len(prepared) <= situation.message_limit
    cost = segments.measure(prepared)
    budget = situation.budget or segments.default_budget(cost.encoding)
    return cost.segments <= budget


def _dated(situation: Situation, source: str, issued: date, expires: date | None) -> str:
    """Where an item comes from and when: "(Health Office, 3 Nov 2026, until 5 Nov 2026)"."""
    t = translate(situation)
    said = f"{source}, {dated(situation, issued)}"
    if expires is not None:
        # Translators: how long a bulletin is in force, after its source and issue date.
        said += ", " + t.gettext("until %(date)s") % {"date": dated(situation, expires)}
    return f"({said})"


def bulletin(situation: Situation, item: BulletinLine) -> str:
    """A bulletin whole: its kind, title, every paragraph, source, issue date and expiry."""
    t = translate(situation)
    labels = {
        "alert": t.gettext("ALERT"),
        "advisory": t.gettext("ADVICE"),
        "context": t.gettext("WHAT WE KNOW"),
    }
    label = labels.get(item.kind, "")
    heading = f"{label}: {item.title}" if label else item.title
    if item.outdated:
        heading += "\n" + outdated(situation)
    where = _applies(item.applies)
    source = _dated(situation, item.source, item.issued_on, item.expires_on)
    return f"{heading}\n{where}{item.text}\n{source}"


def context_note(situation: Situation, note: ContextLine) -> str:
    """A context note whole, its verdict first (the library puts it there)."""
    t = translate(situation)
    where, source = _applies(note.applies), _dated(situation, note.source, note.issued_on, None)
    mark = outdated(situation) + "\n" if note.outdated else ""
    return str(t.gettext("What we know:")) + f" {note.title}\n{mark}{where}{note.text}\n{source}"


def outdated(situation: Situation) -> str:
    """The mark on a translation made from an older source text (REFUGE_STALE_TRANSLATIONS=mark):
    the person may act on it, so they are told the original has changed since."""
    # The same message as localize.STALE_NOTICE, the pages' mark (its translator comment).
    return str(translate(situation).gettext("This translation may be out of date."))


def _applies(label: str) -> str:
    """Where a bulletin or note applies, as its own line (nothing for the person's own place)."""
    return f"{label}\n" if label else ""
