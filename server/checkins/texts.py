"""What check-ins send outside a conversation, in the person's language: opt-ins, alerts...

Texts for contacts say only what the person chose to share (the name contacts know them by,
or their own words): never Refuge, the person's situation, or who else is told.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from gettext import NullTranslations

from babel.dates import format_datetime

from server import segments
from server.checkins.schedule import zone_of
from server.i18n import locales

#: How much of a note's id an alert names (the portal shows the whole id, starting so), and
#: how little when that lets it name every note of the incident.
NOTE_ID = 8
NOTE_ID_SHORTEST = 4
#: The catalogue of a locale: compiled once per process, with the portal's saved translations.
catalogue = locales.catalogue


def fits_one_text(text: str) -> bool:
    """Whether a text goes out within the default segment budget of its encoding."""
    cost = segments.measure(_prepared(text))
    return cost.segments <= segments.default_budget(cost.encoding)


def _prepared(text: str) -> str:
    return segments.prepare(text, segments.AccentPolicy.TRANSLITERATE)


def local_time(moment: datetime, zone: str, locale: str) -> str:
    """A due time as the person reads it: their zone, their language ("Mon 09:00")."""
    try:
        return str(format_datetime(moment, "EEE HH:mm", tzinfo=zone_of(zone), locale=locale))
    except (ValueError, LookupError):
        return moment.astimezone(zone_of(zone)).strftime("%a %H:%M")


def opt_in(locale: str, name: str) -> str:
    """The one message a new contact receives, asking for their consent."""
    t = catalogue(locale)
    # Translators: sent to someone a person wants to alert if they go quiet. It must not
    # mention Refuge, check-ins, danger or anyone else. %(name)s is how the person signs.
    text = t.gettext(
        "%(name)s asks if you will accept an occasional text from this number about them. "
        "Reply YES to accept or NO to refuse. You will not be asked again."
    )
    return _prepared(text % {"name": name})


def alert(locale: str, name: str, own: str | None) -> str:
    """What a confirmed contact receives when the person misses a check-in (or is forced)."""
    if own:
        return _prepared(own)
    t = catalogue(locale)
    # Translators: the default alert to a trusted contact. Neutral: no Refuge, no danger words.
    text = t.gettext(
        "About %(name)s: they have not been in touch as planned. Please try to reach them."
    )
    return _prepared(text % {"name": name})


def all_clear(locale: str, name: str) -> str:
    """What everyone alerted receives when the person checks in again."""
    t = catalogue(locale)
    # Translators: sent after an alert, once the person checks in again. Neutral wording.
    return _prepared(
        t.gettext("About %(name)s: they are in touch again. Thank you.") % {"name": name}
    )


def closing(locale: str) -> str:
    """The last text to a contact an alert reached who was then removed: only that they need
    not act (no name, no word of the removal)."""
    t = catalogue(locale)
    # Translators: the last text to someone alerted earlier and since removed as a contact.
    # Neutral: no name, no Refuge, no "removed"; only that nothing is needed from them.
    return _prepared(t.gettext("Update: no action is needed now."))


def partner_alert(locale: str, name: str, phone: str, notes: Sequence[str]) -> str:
    """What the person's NGO receives: who, how to reach them, and every note left for it."""
    t = catalogue(locale)
    # Translators: sent to the person's NGO (their caseworkers), who know Refuge.
    text = t.gettext(
        "Refuge check-in alert: %(name)s (%(phone)s) missed a check-in or asked for help."
    ) % {"name": name, "phone": phone}
    return _naming(t, text, notes)


def partner_all_clear(locale: str, name: str, notes: Sequence[str]) -> str:
    """The NGO's all-clear: the neutral one, and the notes left after its alert went."""
    t = catalogue(locale)
    return _naming(t, all_clear(locale, name), notes)


def _naming(t: NullTranslations, text: str, notes: Sequence[str]) -> str:
    """A text for the NGO and the notes it names, within one text's budget.

    Notes are named as the portal lists them (by the start of their id), never by their text:
    8 hex digits each, or 6, or 4 when that is what lets every note fit. Only when even 4 would
    not fit does the count stay and the latest are named.
    """
    if not notes:
        return _prepared(text)
    for width in range(NOTE_ID, NOTE_ID_SHORTEST - 1, -2):
        whole = _with_notes(t, text, [note[:width] for note in notes], len(notes))
        if fits_one_text(whole):
            return whole
    ids = [note[:NOTE_ID_SHORTEST] for note in notes]
    for shown in range(len(ids) - 1, 0, -1):  # the latest, as many as fit (one at least)
        whole = _with_notes(t, text, ["...", *ids[len(ids) - shown :]], len(ids))
        if fits_one_text(whole):
            break
    return whole


def _with_notes(t: NullTranslations, text: str, listed: Sequence[str], count: int) -> str:
    # Translators: added to the NGO's alert; %(notes)s lists short note ids, as the
    # partner portal shows them ("3fa2b9c1, 7d01e5aa"); %(num)d counts every note.
    more = t.ngettext(
        "Their %(num)d sealed note waits for you: %(notes)s.",
        "Their %(num)d sealed notes wait for you: %(notes)s.",
        count,
    ) % {"num": count, "notes": ", ".join(listed)}
    return _prepared(f"{text} {more}")


def reminder(locale: str, due: datetime, zone: str) -> str:
    """The reminder before a due time."""
    t = catalogue(locale)
    text = t.gettext("Reminder: your check-in is due at %(time)s. Reply OK and your PIN.")
    return _prepared(text % {"time": local_time(due, zone, locale)})


def consent_told(locale: str, name: str, agreed: bool) -> str:
    """The person told, neutrally, what a contact answered."""
    t = catalogue(locale)
    if agreed:
        text = t.gettext("%(name)s agreed to be one of your contacts.")
    else:
        text = t.gettext("%(name)s will not be one of your contacts.")
    return _prepared(text % {"name": name})


class Pressure(enum.Enum):
    """What happened before a note was written, for the caseworker who opens it."""

    DURESS = "duress"
    WRONG_PINS = "wrong_pins"


def note_mark(locale: str, pressure: Pressure) -> str:
    """The line sealed at the head of a note written after the duress PIN or wrong PINs."""
    t = catalogue(locale)
    if pressure is Pressure.DURESS:
        # Translators: sealed at the top of a note for the caseworker only, never shown to the
        # person who wrote it: the note may have been written under someone else's eyes.
        return str(t.gettext("[Refuge: written after the duress PIN was used]"))
    # Translators: sealed at the top of a note for the caseworker only, never shown to the
    # person who wrote it: someone may be trying to guess their PIN.
    return str(t.gettext("[Refuge: written after a wrong PIN]"))
