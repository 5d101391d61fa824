"""Content translations as .po files: export, import with checks, status, and the commands."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from server import db
from server.config import Settings
from server.content import loader
from server.content.translation_files import (
    DRAFT_FLAG,
    SMS_NOTE,
    STALE_NOTE,
    ImportReport,
    TranslationFileError,
    export_po,
    import_po,
    po_bytes,
    read_catalog,
    write_po_file,
)
from server.i18n.status import as_json, format_table, status, ui_status
from server.models.bulletins import Bulletin, BulletinStatus
from server.models.content import Region, Resource
from server.models.search import SearchDocument
from server.models.translations import Translation, TranslationStatus, source_digest

FIXTURES = Path(__file__).parent / "fixtures" / "content"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEGAL_NAME = "resource:test-kharkiv-legal:name"
FLOOD_BODY = "bulletin:test-flood-alert:body"
UPDATES_SMS = "checklist_step:test-phone/updates:sms"


@pytest.fixture
def loaded(app: Flask) -> Flask:
    """The app with the test content loaded."""
    with db.get_database(app).session() as session:
        loader.load(session, FIXTURES)
    return app


def export(app: Flask, locale: str = "ar") -> Catalog:
    with db.get_database(app).session() as session:
        return export_po(session, locale, now=NOW)


def translated(catalog: Catalog, texts: dict[str, str], *, draft: tuple[str, ...] = ()) -> bytes:
    """The catalogue as .po bytes with some messages translated (and some flagged draft)."""
    by_context = {message.context: message for message in catalog if message.id}
    for context, text in texts.items():
        message = by_context.get(context) or catalog.add(f"source of {context}", context=context)
        message.string = text
        message.flags.discard("fuzzy")
        message.flags.discard(DRAFT_FLAG)
        if context in draft:
            message.flags.add(DRAFT_FLAG)
    return po_bytes(catalog)


def line_of(data: bytes, context: str) -> int:
    """The 1-based line of the msgid that follows `msgctxt "context"`."""
    lines = data.decode("utf-8").splitlines()
    return lines.index(f'msgctxt "{context}"') + 2


def apply(app: Flask, data: bytes, locale: str | None = None) -> ImportReport:
    with db.get_database(app).session() as session:
        return import_po(session, data, locale=locale, now=NOW)


def translation(app: Flask, context: str, locale: str = "ar") -> Translation | None:
    entity, rest = context.split(":", 1)
    entity_id, field = rest.rsplit(":", 1)
    with db.get_database(app).session() as session:
        row = session.scalar(
            select(Translation).where(
                Translation.entity == entity,
                Translation.entity_id == entity_id,
                Translation.field == field,
                Translation.locale == locale,
            )
        )
        if row is not None:
            session.expunge(row)
        return row


def count_translations(app: Flask) -> int:
    with db.get_database(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(Translation)) or 0)


# --- Export -----------------------------------------------------------------------------------


def test_export_holds_every_current_field_with_its_translation(loaded: Flask) -> None:
    catalog = export(loaded)
    messages = {m.context: m for m in catalog if m.id}
    # 4 regions, 1 organisation (2), 4 resources (2), 3 bulletins (2), 1 checklist (3), 2 steps
    # (3), a public place's name and address, a rumour wording (the confidential place: none)
    assert len(messages) == 4 + 2 + 8 + 6 + 3 + 6 + 2 + 1
    testland = messages["region:testland:name"]
    assert testland.string == "أرض الاختبار"
    assert DRAFT_FLAG in testland.flags  # loaded from a file: waiting for review
    assert not testland.fuzzy
    assert messages[LEGAL_NAME].string == ""
    assert "Resource name (test-kharkiv-legal)" in messages[LEGAL_NAME].auto_comments
    assert SMS_NOTE in messages[UPDATES_SMS].auto_comments
    assert SMS_NOTE not in messages["checklist_step:test-phone/updates:web"].auto_comments
    assert catalog.locale_identifier == "ar"
    text = po_bytes(catalog).decode("utf-8")
    assert '"Language: ar\\n"' in text
    assert "nplurals=6" in text
    assert "charset=utf-8" in text
    assert "python-format" not in text


def test_export_leaves_out_retired_retracted_and_same_language_records(loaded: Flask) -> None:
    with db.get_database(loaded).session() as session:
        old = session.get(Bulletin, "test-old-alert")
        helpline = session.get(Resource, "test-old-helpline")
        east = session.scalar(select(Region).where(Region.slug == "east-city"))
        assert old is not None
        assert helpline is not None
        assert east is not None
        old.status = BulletinStatus.RETRACTED
        helpline.retired = True
        east.source_locale = "ar"
    contexts = {m.context for m in export(loaded) if m.id}
    assert "bulletin:test-old-alert:title" not in contexts
    assert "resource:test-old-helpline:name" not in contexts
    assert "region:east-city:name" not in contexts
    assert "region:east-city:name" in {m.context for m in export(loaded, "fr") if m.id}


def test_a_stale_translation_is_exported_fuzzy(loaded: Flask) -> None:
    context = "resource:test-river-clinic:description"
    with db.get_database(loaded).session() as session:
        clinic = session.get(Resource, "test-river-clinic")
        assert clinic is not None
        clinic.description = "Free first aid, maternal care and vaccinations."
    catalog = export(loaded)
    message = next(m for m in catalog if m.context == context)
    assert message.fuzzy
    assert message.id == "Free first aid, maternal care and vaccinations."
    assert message.string == "إسعافات أولية ورعاية الأمومة مجانا"
    assert STALE_NOTE in message.auto_comments
    # Imported as it is, the fuzzy message is skipped and stays stale.
    report = apply(loaded, po_bytes(catalog))
    assert report.skipped_fuzzy == 1
    row = translation(loaded, context)
    assert row is not None
    assert row.is_stale(message.id)
    # A translator checks it and removes the flag: it is current again.
    report = apply(loaded, translated(catalog, {context: message.string}))
    assert report.applied == 1
    row = translation(loaded, context)
    assert row is not None
    assert not row.is_stale(message.id)
    assert row.status is TranslationStatus.REVIEWED


FLOOD_AR = "انتقلوا إلى مكان مرتفع. اتصلوا [بالخط](tel:+447700900005) للمساعدة."


def _translate_flood_body(app: Flask) -> str:
    """An Arabic translation, as a content file gives it, of a body that ends with a newline."""
    with db.get_database(app).session() as session:
        flood = session.get(Bulletin, "test-flood-alert")
        assert flood is not None
        assert flood.body.endswith("\n")
        session.add(
            Translation(
                entity="bulletin",
                entity_id=flood.id,
                field="body",
                locale="ar",
                text=FLOOD_AR,
                source_digest=source_digest(flood.body),
                status=TranslationStatus.DRAFT,
                updated_at=NOW,
            )
        )
        return flood.body


def test_msgfmt_accepts_the_export(loaded: Flask, tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    _translate_flood_body(loaded)
    with db.get_database(loaded).session() as session:
        clinic = session.get(Resource, "test-river-clinic")
        assert clinic is not None
        clinic.description = "100% free: first aid and maternal care."  # stale, and a '%'
    for locale in ("ar", "rhg", "my"):
        path = tmp_path / f"{locale}.po"
        write_po_file(export(loaded, locale), path)
        result = subprocess.run(
            [msgfmt, "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr


def test_newlines_around_a_translation_follow_its_source(loaded: Flask) -> None:
    source = _translate_flood_body(loaded)
    catalog = export(loaded)
    message = next(m for m in catalog if m.context == FLOOD_BODY)
    assert message.id == source
    assert not message.fuzzy
    assert message.string == FLOOD_AR + "\n"  # msgfmt wants both to end alike
    report = apply(loaded, po_bytes(catalog))
    assert report.applied == 0  # the same translation, kept as the content file has it
    assert report.refused == []
    row = translation(loaded, FLOOD_BODY)
    assert row is not None
    assert row.text == FLOOD_AR
    report = apply(loaded, translated(catalog, {FLOOD_BODY: "انتقلوا فورا.\n"}))
    assert report.applied == 1
    row = translation(loaded, FLOOD_BODY)
    assert row is not None
    assert row.text == "انتقلوا فورا."


# --- Import -----------------------------------------------------------------------------------


def test_export_translate_import_round_trip(loaded: Flask) -> None:
    body = "انتقلوا إلى مكان مرتفع. اتصلوا [بالخط](tel:+447700900005) للمساعدة."
    data = translated(
        export(loaded),
        {
            LEGAL_NAME: "مكتب المساعدة القانونية",
            FLOOD_BODY: body,
            UPDATES_SMS: "ثبت التحديثات: الإعدادات > النظام > تحديث البرامج.",
            "region:testland:name": "أرض الاختبار",  # reviewed now: the draft flag is gone
        },
        draft=(FLOOD_BODY,),
    )
    report = apply(loaded, data)
    assert report.locale == "ar"
    assert report.applied == 4
    assert report.refused == []
    assert report.skipped_empty > 0
    legal = translation(loaded, LEGAL_NAME)
    assert legal is not None
    assert legal.text == "مكتب المساعدة القانونية"
    assert legal.status is TranslationStatus.REVIEWED
    assert legal.updated_at == NOW
    flood = translation(loaded, FLOOD_BODY)
    assert flood is not None
    assert flood.text == body
    assert flood.status is TranslationStatus.DRAFT
    testland = translation(loaded, "region:testland:name")
    assert testland is not None
    assert testland.status is TranslationStatus.REVIEWED
    with db.get_database(loaded).session() as session:
        documents = session.scalars(
            select(SearchDocument.locale).where(SearchDocument.resource_id == "test-kharkiv-legal")
        )
        assert "ar" in set(documents)
    again = apply(loaded, data)
    assert again.applied == 0
    assert again.unchanged == report.applied + report.unchanged
    # The next export carries the translations, with their review state.
    messages = {m.context: m for m in export(loaded) if m.id}
    assert messages[LEGAL_NAME].string == "مكتب المساعدة القانونية"
    assert DRAFT_FLAG in messages[FLOOD_BODY].flags
    assert DRAFT_FLAG not in messages[LEGAL_NAME].flags


def test_bad_messages_are_refused_with_their_lines_and_the_rest_applied(loaded: Flask) -> None:
    expected = {
        "organization:test-clinic-org:description": "placeholders",
        FLOOD_BODY: "HTML",
        "resource:test-river-clinic:description": "javascript",
        "checklist_step:test-phone/screen-lock:web": "HTML",
        "bulletin:test-water-rumour:body": "tel: link",
        "checklist:test-phone:summary": "link may go only",
        UPDATES_SMS: "SMS: must fit one message",
        "resource:no-such-resource:name": "unknown message context",
    }
    data = translated(
        export(loaded),
        {
            "organization:test-clinic-org:description": "يدير العيادات {name}",
            FLOOD_BODY: "انتقلوا <script>alert(1)</script>",
            "resource:test-river-clinic:description": "إسعافات [x](javascript:alert(1))",
            "checklist_step:test-phone/screen-lock:web": 'رمز <img src=x onerror="alert(1)">',
            "bulletin:test-water-rumour:body": "اتصلوا [هنا](tel:+10000000000)",
            "checklist:test-phone:summary": "[هاتفك](data:text/html;base64,PHNjcmlwdD4=)",
            UPDATES_SMS: "ثبت التحديثات " * 6,
            "resource:no-such-resource:name": "لا شيء",
            LEGAL_NAME: "مكتب المساعدة القانونية",
        },
    )
    before = translation(loaded, "resource:test-river-clinic:description")
    report = apply(loaded, data)
    assert report.applied == 1
    refused = {refusal.context: refusal for refusal in report.refused}
    assert set(refused) == set(expected)
    for context, words in expected.items():
        assert refused[context].line == line_of(data, context), context
        assert words in refused[context].reason, refused[context].reason
        assert str(refused[context]).startswith(f"{refused[context].line}: ")
    assert translation(loaded, FLOOD_BODY) is None
    after = translation(loaded, "resource:test-river-clinic:description")
    assert before is not None
    assert after is not None
    assert after.text == before.text


def test_safe_markdown_in_a_translation_is_accepted(loaded: Flask) -> None:
    body = (
        "**انتقلوا** إلى مكان مرتفع.\n\n- اتصلوا [بالخط](tel:+447700900005)\n"
        "- [الموقع](https://example.org/ar)\n- 3 < 5"
    )
    report = apply(loaded, translated(export(loaded), {FLOOD_BODY: body}))
    assert report.refused == []
    assert report.applied == 1


def test_a_translation_of_a_changed_source_is_not_applied(loaded: Flask) -> None:
    data = translated(export(loaded), {LEGAL_NAME: "مكتب المساعدة القانونية"})
    with db.get_database(loaded).session() as session:
        legal = session.get(Resource, "test-kharkiv-legal")
        assert legal is not None
        legal.name = "Legal and Documents Desk (sample)"
    report = apply(loaded, data)
    assert report.applied == 0
    (refusal,) = report.refused
    assert refusal.line == line_of(data, LEGAL_NAME)
    assert "source changed, translation not applied" in refusal.reason
    assert translation(loaded, LEGAL_NAME) is None


def test_the_locale_comes_from_the_header_unless_given(loaded: Flask) -> None:
    data = translated(export(loaded, "uk"), {"region:north-area:name": "Північна область"})
    assert apply(loaded, data).locale == "uk"
    assert translation(loaded, "region:north-area:name", "uk") is not None
    report = apply(loaded, data, locale="fr")
    assert report.locale == "fr"
    assert translation(loaded, "region:north-area:name", "fr") is not None


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        (b'msgid ""\nmsgstr ""\n\nmsgctxt "a:b:c"\nmsgid "abc\nmsgstr ""\n', 5, "not a valid"),
        (b'msgid "a"\nmsgtxt "b"\n', 2, "not a valid"),
        (b'msgid "a"\nmsgstr "b"\nmsgstr "c"\n', 3, "msgstr where"),
        (b'msgstr "b"\n', 1, "msgstr where"),
        (b'msgid "a"\nmsgstr "b"\n\nmsgid "c"\n', 4, "ends inside a message"),
        (b'msgid "a"\nmsgstr "\xff"\n', 2, "UTF-8"),
    ],
)
def test_a_broken_file_is_a_translation_file_error_with_its_line(
    content: bytes, line: int, words: str
) -> None:
    with pytest.raises(TranslationFileError) as caught:
        read_catalog(content)
    assert caught.value.line == line
    assert words in caught.value.reason
    assert str(caught.value).startswith(f"line {line}: ")


def test_a_broken_file_writes_nothing(loaded: Flask) -> None:
    before = count_translations(loaded)
    data = translated(export(loaded), {LEGAL_NAME: "مكتب"}) + b'\nmsgid "oops\n'
    with pytest.raises(TranslationFileError):
        apply(loaded, data)
    assert count_translations(loaded) == before


# --- Status -----------------------------------------------------------------------------------


def _settings(app: Flask) -> Settings:
    settings: Settings = app.extensions["refuge.settings"]
    return settings


def _locales(tmp_path: Path) -> Path:
    """A small locales directory: a template, a half-translated Arabic, a broken French."""
    root = tmp_path / "locales"
    template = (
        '#. Translators: SMS command word\nmsgctxt "sms keyword"\nmsgid "HELP"\nmsgstr ""\n\n'
        'msgid "Start page"\nmsgstr ""\n\nmsgid "Page not found"\nmsgstr ""\n\n'
        'msgid "Too large"\nmsgstr ""\n'
    )
    (root / "ar" / "LC_MESSAGES").mkdir(parents=True)
    (root / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (root / "messages.pot").write_text('msgid ""\nmsgstr ""\n\n' + template)
    header = 'msgid ""\nmsgstr ""\n"Language: ar\\n"\n\n'
    (root / "ar" / "LC_MESSAGES" / "messages.po").write_text(
        header
        + '#. Translators: SMS command word\nmsgctxt "sms keyword"\nmsgid "HELP"\n'
        + 'msgstr "مساعدة"\n\n'
        + '#, draft\nmsgid "Start page"\nmsgstr "الصفحة الأولى"\n\n'
        + '#, fuzzy\nmsgid "Page not found"\nmsgstr "غير موجود"\n\n'
        + 'msgid "Too large"\nmsgstr ""\n'
    )
    (root / "fr" / "LC_MESSAGES" / "messages.po").write_text('msgid "Start page\nmsgstr ""\n')
    return root


def test_ui_status_counts_drafts_and_survives_missing_or_broken_catalogues(
    tmp_path: Path,
) -> None:
    root = _locales(tmp_path)
    arabic = ui_status("ar", root)
    assert (arabic.total, arabic.translated, arabic.draft, arabic.fuzzy) == (4, 2, 1, 1)
    assert arabic.problem is None
    assert [text.text for text in arabic.sms] == ["مساعدة"]
    english = ui_status("en", root)
    assert (english.total, english.translated) == (4, 4)
    assert [text.text for text in english.sms] == ["HELP"]
    french = ui_status("fr", root)
    assert french.problem is not None
    assert "line 1" in french.problem
    ukrainian = ui_status("uk", root)
    assert (ukrainian.total, ukrainian.translated, ukrainian.problem) == (4, 0, "no catalogue yet")
    assert ui_status("ar", tmp_path / "nowhere").problem == "no catalogue yet"


def test_status_covers_every_locale_and_follows_an_import(loaded: Flask, tmp_path: Path) -> None:
    root = _locales(tmp_path)
    settings = _settings(loaded)
    with db.get_database(loaded).session() as session:
        before = {row.locale: row for row in status(session, settings, locales_dir=root)}
    assert list(before) == list(settings.localization.locales)
    english = before["en"]
    assert english.source
    assert english.ui_percent == 100.0
    assert english.content_percent == 100.0
    arabic = before["ar"]
    assert arabic.ui_translated == 2
    assert arabic.ui_draft == 1
    assert arabic.ui_reviewed == 1
    assert arabic.content_total == 32
    assert arabic.content_draft == arabic.content_translated  # all loaded from files
    # 4 region names, 4 resource names, 3 bulletins' titles and bodies, a checklist's title,
    # its 2 steps' SMS texts, and one keyword
    assert arabic.sms_texts == 18
    # In Arabic: the keyword, Testland, the river clinic's name and the checklist's title
    assert arabic.sms_gsm7 == arabic.sms_texts - 4
    assert before["fr"].ui_problem is not None
    data = translated(
        export(loaded),
        {LEGAL_NAME: "مكتب المساعدة القانونية", UPDATES_SMS: "ثبت التحديثات"},
    )
    apply(loaded, data)
    with db.get_database(loaded).session() as session:
        after = {row.locale: row for row in status(session, settings, locales_dir=root)}
    assert after["ar"].content_translated == arabic.content_translated + 2
    assert after["ar"].content_percent > arabic.content_percent
    assert after["ar"].content_reviewed == arabic.content_reviewed + 2
    assert after["ar"].sms_gsm7 == arabic.sms_gsm7 - 2  # the legal office name, the step SMS
    assert after["uk"].content_translated == before["uk"].content_translated
    table = format_table(list(after.values()))
    for locale in settings.localization.locales:
        assert any(line.startswith(locale) for line in table.splitlines())
    assert "fr: UI: cannot read the catalogue" in table
    rows = json.loads(as_json(list(after.values())))
    assert [row["locale"] for row in rows] == list(settings.localization.locales)
    assert rows[1]["content_translated"] == after["ar"].content_translated


def test_status_counts_stale_translations(loaded: Flask, tmp_path: Path) -> None:
    with db.get_database(loaded).session() as session:
        clinic = session.get(Resource, "test-river-clinic")
        assert clinic is not None
        clinic.name = "River Health Post (sample)"
    with db.get_database(loaded).session() as session:
        rows = {r.locale: r for r in status(session, _settings(loaded), locales_dir=tmp_path)}
    assert rows["ar"].content_stale == 1
    assert rows["uk"].content_stale == 0


# --- Commands ---------------------------------------------------------------------------------


def invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def test_status_command_prints_a_table_or_json(loaded: Flask) -> None:
    table = invoke(loaded, "i18n", "status")
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].startswith("locale")
    assert "en (source)" in table.stdout
    listed = json.loads(invoke(loaded, "i18n", "status", "--json").stdout)
    assert [row["locale"] for row in listed] == list(_settings(loaded).localization.locales)


def test_export_command_writes_a_file(
    loaded: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "arabic.po"
    result = invoke(loaded, "i18n", "export-content", "--locale", "ar", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"written to {out}" in result.stdout
    assert read_catalog(out).locale_identifier == "ar"
    monkeypatch.chdir(tmp_path)
    result = invoke(loaded, "i18n", "export-content", "--locale", "uk")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "uk.po").exists()
    streamed = invoke(loaded, "i18n", "export-content", "--locale", "uk", "--out", "-")
    assert streamed.stdout_bytes == (tmp_path / "uk.po").read_bytes()
    unknown = invoke(loaded, "i18n", "export-content", "--locale", "xx")
    assert unknown.exit_code == 1
    assert "not one of the configured locales" in unknown.stderr


def test_import_command_reports_refusals_as_file_line_reason(loaded: Flask, tmp_path: Path) -> None:
    path = tmp_path / "ar.po"
    good = translated(export(loaded), {LEGAL_NAME: "مكتب المساعدة القانونية"})
    path.write_bytes(good)
    result = invoke(loaded, "i18n", "import-content", str(path))
    assert result.exit_code == 0, result.output
    assert "ar: 1 applied" in result.stdout
    bad = translated(export(loaded), {FLOOD_BODY: "<script>alert(1)</script>"})
    path.write_bytes(bad)
    result = invoke(loaded, "i18n", "import-content", str(path), "--locale", "ar")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:{line_of(bad, FLOOD_BODY)}: HTML is not allowed")
    assert "0 applied" in result.stdout


def test_import_command_all_or_nothing_applies_nothing_on_a_refusal(
    loaded: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "ar.po"
    path.write_bytes(translated(export(loaded), {LEGAL_NAME: "مكتب", FLOOD_BODY: "<b>انتقلوا</b>"}))
    result = invoke(loaded, "i18n", "import-content", str(path), "--all-or-nothing")
    assert result.exit_code == 1
    assert "nothing was imported" in result.stdout
    assert translation(loaded, LEGAL_NAME) is None


def test_import_command_refuses_a_broken_file_in_one_line(loaded: Flask, tmp_path: Path) -> None:
    path = tmp_path / "ar.po"
    path.write_bytes(translated(export(loaded), {LEGAL_NAME: "مكتب"}) + b'\nmsgid "oops\n')
    before = count_translations(loaded)
    result = invoke(loaded, "i18n", "import-content", str(path))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"{path}:" in result.stderr
    assert "nothing was imported" in result.stderr
    assert count_translations(loaded) == before
