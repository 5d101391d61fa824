"""What SMS texts cost per locale: every text that can go out, measured as it goes out."""
# ruff: noqa: RUF001 (Ukrainian text is Cyrillic on purpose)

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from babel.messages.pofile import read_po
from flask import Flask

from server import db
from server.app import create_app
from server.config import Settings
from server.content import loader
from server.i18n import costs
from server.i18n.locales import LOCALES_DIR
from server.i18n.status import LocaleStatus, as_json, format_table, status, worst_lines

DURESS_PROMPT = (
    "Optional: a second, duress PIN of 6 to 8 digits. If you are ever forced to check in, use "
    "it: all looks normal but your contacts are alerted. Reply it, or NO to skip."
)
#: 138 Cyrillic characters: 3 UCS-2 segments (two of 67 and one of 4).
DURESS_UK = (
    "Другий PIN під примусом (6-8 цифр): усе виглядатиме звично, але ваші контакти отримають "
    "сповіщення. Надішліть його або НІ, щоб пропустити."
)


def _settings(app: Flask) -> Settings:
    settings: Settings = app.extensions["refuge.settings"]
    return settings


def _shipped_translation(locale: str, msgid: str) -> str:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    message = catalog.get(msgid)
    assert message is not None
    assert isinstance(message.string, str)
    assert message.string
    return message.string


def test_ukrainian_duress_pin_prompt_shows_its_true_cost(app: Flask) -> None:
    shipped = _shipped_translation("uk", DURESS_PROMPT)
    with db.get_database(app).session() as session:
        measured = costs.locale_costs(session, _settings(app), "uk")
        in_english = costs.locale_costs(session, _settings(app), "en")
        rows = {row.locale: row for row in status(session, _settings(app))}
    prompt = next(cost for cost in measured if cost.msgid == DURESS_PROMPT)
    assert prompt.text == shipped
    assert prompt.encoding == "UCS-2"
    assert prompt.units == len(shipped)  # Cyrillic: one UTF-16 unit a letter
    assert prompt.segments == -(-len(shipped) // 67) >= 3
    assert set(prompt.forcing) <= set(shipped)
    assert "Н" in prompt.forcing
    assert prompt.budget == 3  # a UCS-2 reply's default budget: paged beyond it
    ukrainian = rows["uk"]
    assert ukrainian.sms_three_or_more >= 1
    assert ukrainian.sms_two_or_more > ukrainian.sms_three_or_more
    assert ukrainian.sms_worst is not None
    assert ukrainian.sms_worst.segments >= 3
    # The same prompt in English: GSM-7, and fewer segments.
    english = next(cost for cost in in_english if cost.msgid == DURESS_PROMPT)
    assert (english.encoding, english.forcing) == ("GSM-7", ())
    assert english.segments < prompt.segments


def _fixture_locales(root: Path) -> Path:
    """A template of three messages (a keyword, the duress prompt, a web page's title) and a
    Ukrainian catalogue with each translated: the prompt as a draft, the web one very long."""
    pot = (
        '#. Translators: SMS command word\nmsgctxt "sms keyword"\nmsgid "HELP"\nmsgstr ""\n\n'
        f'msgid "{DURESS_PROMPT}"\nmsgstr ""\n\n'
        'msgid "Page not found"\nmsgstr ""\n'
    )
    (root / "uk" / "LC_MESSAGES").mkdir(parents=True)
    (root / "messages.pot").write_text('msgid ""\nmsgstr ""\n\n' + pot)
    (root / "uk" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: uk\\n"\n\n'
        '#. Translators: SMS command word\nmsgctxt "sms keyword"\nmsgid "HELP"\n'
        'msgstr "ДОПОМОГА"\n\n'
        f'#, draft\nmsgid "{DURESS_PROMPT}"\nmsgstr "{DURESS_UK}"\n\n'
        'msgid "Page not found"\nmsgstr "' + "Сторінку не знайдено. " * 12 + '"\n'
    )
    return root


def _cells(table: str, locale: str) -> dict[str, str]:
    lines = table.splitlines()
    header = re.split(r"\s{2,}", lines[0])
    row = next(line for line in lines if line.split()[0] == locale)
    return dict(zip(header, re.split(r"\s{2,}", row), strict=True))


def test_report_line_is_right_for_a_small_catalogue(app: Flask, tmp_path: Path) -> None:
    root = _fixture_locales(tmp_path / "locales")
    with db.get_database(app).session() as session:  # no content: only the UI catalogue
        rows: dict[str, LocaleStatus] = {
            row.locale: row for row in status(session, _settings(app), locales_dir=root)
        }
    table = format_table(list(rows.values()))
    assert _cells(table, "uk") == {
        "locale": "uk",
        "UI": "100% 3/3",
        "UI draft": "1",
        "UI reviewed": "2",
        "content": "100% 0/0",
        "stale": "0",
        "draft": "0",
        "reviewed": "0",
        "SMS GSM-7": "0%",  # two texts, both Cyrillic; the web page's title is no SMS
        "SMS 2+": "1",
        "SMS 3+": "1",
        "worst SMS": "3 UCS-2",
    }
    expected = (
        "uk: worst SMS message: 3 segments, UCS-2 (138 units), "
        "UCS-2 forced by Д р у г и й п і ...: "
        '"Optional: a second, duress PIN of 6 to 8 digits. If you a..."'
    )
    assert worst_lines(rows["uk"]) == [expected]  # no content to send
    assert expected in table.splitlines()
    english = _cells(table, "en")  # the template's texts, as English readers get them
    assert (english["SMS GSM-7"], english["SMS 2+"], english["worst SMS"]) == (
        "100%",
        "1",
        "2 GSM-7",
    )
    listed = {row["locale"]: row for row in json.loads(as_json(list(rows.values())))}
    assert listed["uk"]["sms_worst"]["msgid"] == DURESS_PROMPT
    assert listed["uk"]["sms_worst"]["segments"] == 3
    assert listed["uk"]["sms_texts"] == 2


def test_sms_messages_are_read_from_the_modules_that_send_them() -> None:
    keys = costs.sms_message_keys()
    assert (None, DURESS_PROMPT) in keys  # written in the check-in set-up's flow
    assert ("sms keyword", "HELP") in keys
    assert (None, "Page not found") not in keys  # a web page's, never texted


def test_content_is_measured_in_the_language_its_reader_gets(app: Flask) -> None:
    with db.get_database(app).session() as session:
        loader.load(session, Path(__file__).parent / "fixtures" / "content")
        arabic = {cost.origin: cost for cost in costs.locale_costs(session, _settings(app), "ar")}
        french = {cost.origin: cost for cost in costs.locale_costs(session, _settings(app), "fr")}
    # Translated into Arabic: sent in Arabic letters, so UCS-2; French readers get the English.
    assert arabic["region:testland:name"].text == "أرض الاختبار"
    assert arabic["region:testland:name"].encoding == "UCS-2"
    assert french["region:testland:name"].text == "Testland"
    assert french["region:testland:name"].encoding == "GSM-7"
    # A bulletin goes out as plain text: its Markdown is not paid for.
    flood = french["bulletin:test-flood-alert:body"]
    assert flood.msgid.startswith("Move to higher ground. Call [the line](tel:")
    # By SMS a link cannot be tapped: its number is spelled out beside its words.
    assert flood.text == "Move to higher ground. Call the line (+447700900005) for help."
    # A step's SMS text must fit one segment, whatever the reply budget.
    assert french["checklist_step:test-phone/updates:sms"].budget == 1
    # Fields never texted (a resource's description, a place's address) are not measured.
    assert not any(origin.endswith(":description") for origin in french if "resource" in origin)
    assert not any(origin.startswith("location:") for origin in french)


def test_a_budget_setting_makes_the_prompt_over_budget(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(REFUGE_SMS_SEGMENT_BUDGETS="uk=2")
    app = create_app(settings)
    db.Base.metadata.create_all(db.get_database(app).engine)
    with db.get_database(app).session() as session:
        measured = costs.locale_costs(session, settings, "uk")
    db.get_database(app).dispose()
    prompt = next(cost for cost in measured if cost.msgid == DURESS_PROMPT)
    assert prompt.budget == 2
    assert prompt.over_budget
