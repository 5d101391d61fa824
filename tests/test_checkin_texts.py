"""What contacts, NGOs and people receive outside a conversation fits one text in every locale."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from server import segments
from server.checkins import texts
from server.config import DEFAULT_LOCALES

DUE = datetime(2027, 3, 28, 6, 0, tzinfo=UTC)
#: The longest name a person may give (40 characters), in a Latin and a Burmese spelling.
NAMES = ("Amina Abdelrahman Mohammed Osman Khalifa", "အမီနာ " * 6 + "အမီနာ")


def _within_budget(text: str) -> bool:
    cost = segments.measure(text)
    return cost.segments <= segments.default_budget(cost.encoding)


@pytest.mark.parametrize("locale", DEFAULT_LOCALES)
@pytest.mark.parametrize("name", NAMES)
def test_every_outbound_check_in_text_fits_its_budget(locale: str, name: str) -> None:
    name = name[:40]
    sent = [
        texts.opt_in(locale, name),
        texts.alert(locale, name, None),
        texts.all_clear(locale, name),
        texts.reminder(locale, DUE, "Europe/Kyiv"),
        texts.consent_told(locale, name, agreed=True),
        texts.consent_told(locale, name, agreed=False),
        texts.partner_alert(locale, name, "+447700900801", ["3fa2b9c1"]),
        texts.partner_alert(locale, name, "+447700900801", [f"{n:08x}" for n in range(30)]),
        texts.partner_all_clear(locale, name, ["3fa2b9c1"]),
        texts.partner_all_clear(locale, name, [f"{n:08x}" for n in range(30)]),
    ]
    assert [text for text in sent if not _within_budget(text)] == []


def test_the_neutral_texts_name_neither_refuge_nor_danger() -> None:
    for text in (
        texts.opt_in("en", "Amina"),
        texts.alert("en", "Amina", None),
        texts.all_clear("en", "Amina"),
    ):
        for word in ("Refuge", "check-in", "danger", "safe", "help"):
            assert word.lower() not in text.lower()


def test_a_custom_alert_longer_than_one_text_is_refused() -> None:
    assert texts.fits_one_text("Call my sister Hana, she knows what to do.")
    assert not texts.fits_one_text("x" * 400)
    assert not texts.fits_one_text("မ" * 210)


@pytest.mark.parametrize("locale", DEFAULT_LOCALES)
def test_the_ngo_alert_names_every_note_of_an_incident_within_one_text(locale: str) -> None:
    """Ten notes in one incident: each is named by the start of its id (shorter ids when
    that is what it takes), in one text, even in the scripts that cost UCS-2."""
    notes = [f"{n:x}{n:x}" * 16 for n in range(10)]  # 32 hex digits each, none a prefix of another
    sent = texts.partner_alert(locale, "Amina", "+447700900801", notes)
    assert _within_budget(sent)
    assert "..." not in sent
    for note in notes:
        assert note[: texts.NOTE_ID_SHORTEST] in sent
    assert "10" in sent  # the count


def test_the_ngo_alert_keeps_whole_short_ids_while_they_fit() -> None:
    notes = [uuid.uuid4().hex for _ in range(3)]
    sent = texts.partner_alert("en", "Amina", "+447700900801", notes)
    assert sent.endswith(
        "Their 3 sealed notes wait for you: " + ", ".join(note[:8] for note in notes) + "."
    )
