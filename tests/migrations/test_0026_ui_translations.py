"""Migration 0026 adds saved UI translations and the author and reviewer of content
translations: existing translations keep their text with neither; going back drops both and
keeps the content translations."""

from __future__ import annotations

from tests.migrations.conftest import Steps

REVISION = "0026"
TRANSLATION = (
    "INSERT INTO translations (id, entity, entity_id, field, locale, text, source_digest, "
    "status, updated_at) VALUES (1, 'region', 'kharkiv', 'name', 'uk', 'Харків', "
    "'0123456789abcdef', 'reviewed', '2026-12-01 10:00:00')"
)


def test_existing_translations_keep_their_text_and_have_no_author(steps: Steps) -> None:
    steps.run(TRANSLATION)
    steps.upgrade()
    rows = steps.rows("SELECT text, status, author_id, reviewer_id FROM translations")
    assert [(r.text, r.status, r.author_id, r.reviewer_id) for r in rows] == [
        ("Харків", "reviewed", None, None)
    ]
    steps.run(
        "INSERT INTO ui_translations (locale, msgid, text, plural_texts, updated_at) "
        "VALUES ('uk', 'Done. Nothing is kept.', 'Готово.', '[]', '2026-12-07 10:00:00')"
    )
    row = steps.rows("SELECT msgctxt, status, plural_texts FROM ui_translations")[0]
    assert (row.msgctxt, row.status) == ("", "draft")


def test_going_back_drops_ui_translations_and_keeps_content_ones(steps: Steps) -> None:
    steps.run(TRANSLATION)
    steps.upgrade()
    steps.run(
        "INSERT INTO ui_translations (locale, msgid, text, plural_texts, updated_at) "
        "VALUES ('uk', 'Done. Nothing is kept.', 'Готово.', '[]', '2026-12-07 10:00:00')"
    )
    steps.downgrade()
    assert "ui_translations" not in steps.tables()
    assert {"author_id", "reviewer_id"}.isdisjoint(steps.columns("translations"))
    assert [row.text for row in steps.rows("SELECT text FROM translations")] == ["Харків"]
    steps.upgrade()
