"""The translator's workspace (issue 19): each translator sees only their own locales; a
broken placeholder is refused with the reason and nothing is stored; a saved UI translation
reaches a running server's SMS replies without a restart, at the cost the workspace showed;
the author of a translation cannot mark it reviewed; the .po files go down and up as the CLI's.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from flask import Flask
from sqlalchemy import func, select

from server import segments
from server.config import Settings
from server.content.translation_files import export_po, po_bytes, read_catalog
from server.db import get_database
from server.models.staff import Role
from server.models.translations import Translation, TranslationStatus
from server.models.ui_translations import UiTranslation
from tests.portal_helpers import add_region
from tests.sms_helpers import Handset, _register, handset_number
from tests.translate_helpers import (  # noqa: F401 (the autouse fixture)
    AGREED,
    STOP_REPLY,
    _forget_overrides,
    entry_html,
    form_token,
    shown_cost,
    signed_in,
    token_of,
    translator,
)

#: A Ukrainian answer to STOP, long enough for two UCS-2 segments.
NEW_STOP = (
    "Ви більше не отримуватимете повідомлень від Refuge. Щоб повернутися, надішліть СТАРТ "  # noqa: RUF001
    "у будь-який час, коли захочете."  # noqa: RUF001
)


@pytest.fixture
def settings(make_settings: object) -> Settings:
    """Processes look for saved UI translations every second (at most 60 in production)."""
    built: Settings = make_settings(REFUGE_UI_RELOAD_SECONDS="1")  # type: ignore[operator]
    return built


def _count(app: Flask, model: type) -> int:
    with get_database(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _without_nonce(body: bytes) -> bytes:
    """A page without its per-response CSP nonce."""
    return re.sub(rb'nonce="[^"]+"', b"", body)


def _save(client, locale: str, token: str, *texts: str, **view: str):  # type: ignore[no-untyped-def]
    csrf = form_token(client, f"/portal/translate/{locale}")
    return client.post(
        f"/portal/translate/{locale}/save",
        data={"csrf_token": csrf, "token": token, "text": list(texts), **view},
    )


def test_a_translator_of_one_locale_cannot_see_or_change_another(app: Flask) -> None:
    client = signed_in(app, translator(app, "olena", ("uk",)))
    assert client.get("/portal/translate/uk").status_code == 200
    arabic = client.get("/portal/translate/ar")
    unknown = client.get("/portal/translate/xx")
    assert arabic.status_code == unknown.status_code == 404
    assert _without_nonce(arabic.get_data()) == _without_nonce(unknown.get_data())
    reviewer = signed_in(app, translator(app, "taras", ("uk",), Role.REVIEWER))
    # (A translator may review nothing: "review" answers 403 before any locale is looked at.)
    for browser, paths in ((client, ("save",)), (reviewer, ("save", "review"))):
        csrf = form_token(browser, "/portal/translate/uk")
        for path in (*paths, "ui.po", "content.po"):
            attempt = browser.post(
                f"/portal/translate/ar/{path}",
                data={"csrf_token": csrf, "token": token_of(AGREED), "text": "%(name)s وافق."},
            )
            assert attempt.status_code == 404, path
        assert browser.get("/portal/translate/ar/content.po").status_code == 404
    assert _count(app, UiTranslation) == 0
    # The list of locales names only the account's own, and takes it straight there.
    assert client.get("/portal/translate/").headers["Location"].endswith("/portal/translate/uk")


def test_a_broken_placeholder_is_refused_with_the_reason_and_nothing_is_stored(
    app: Flask,
) -> None:
    client = signed_in(app, translator(app, "olena", ("uk",)))
    token = token_of(AGREED)
    response = _save(client, "uk", token, "Ім'я погодилося бути вашим контактом.")
    assert response.status_code == 422
    entry = entry_html(response.get_data(as_text=True), token)
    assert "placeholders and markup must be the same" in entry
    assert "%(name)s" in entry
    # What was typed is still in the box, to fix rather than type again.
    assert "Ім&#39;я погодилося" in entry
    assert _count(app, UiTranslation) == 0
    renamed = _save(client, "uk", token, "%(person)s погодився(-лася) бути вашим контактом.")
    assert renamed.status_code == 422
    # Pages mark translations safe: half a tag, which the placeholder rule cannot see, is refused.
    tagged = _save(client, "uk", token, "%(name)s погодився <img src=x onerror=alert(1)")
    assert tagged.status_code == 422
    assert "links and markup are limited" in entry_html(tagged.get_data(as_text=True), token)
    assert _count(app, UiTranslation) == 0


def test_content_markup_is_refused_as_the_po_import_refuses_it(app: Flask) -> None:
    add_region(app, "kharkiv")
    client = signed_in(app, translator(app, "olena", ("uk",)))
    token = "region:kharkiv:name"
    refused = _save(client, "uk", token, "<b>Харків</b>", catalogue="content")
    assert refused.status_code == 422
    assert "HTML is not allowed in content" in entry_html(refused.get_data(as_text=True), token)
    assert _count(app, Translation) == 0
    saved = _save(client, "uk", token, "Харків", catalogue="content")
    assert saved.status_code == 302
    with get_database(app).session() as session:
        row = session.scalars(select(Translation)).one()
        assert (row.text, row.status, row.locale) == ("Харків", TranslationStatus.DRAFT, "uk")
        assert row.author_id is not None
    page = client.get("/portal/translate/uk?catalogue=content&state=draft")
    assert "Харків" in entry_html(page.get_data(as_text=True), token)


def test_a_saved_ui_translation_reaches_sms_replies_without_a_restart(app: Flask) -> None:
    _register(app, [handset_number(301), handset_number(302)], "uk")
    before = Handset(app, handset_number(301)).ask("СТОП")
    assert before != NEW_STOP
    client = signed_in(app, translator(app, "olena", ("uk",)))
    token = token_of(STOP_REPLY)
    assert _save(client, "uk", token, NEW_STOP).status_code == 302
    time.sleep(1.2)  # REFUGE_UI_RELOAD_SECONDS=1: every process looks again within a second
    reply = Handset(app, handset_number(302)).ask("СТОП")
    assert reply == NEW_STOP
    measured = segments.measure(reply)
    assert measured.segments == 2
    page = client.get("/portal/translate/uk?q=Reply+START+to+come+back").get_data(as_text=True)
    assert shown_cost(page, token) == (measured.encoding, measured.segments)
    assert "Characters that force UCS-2" in entry_html(page, token)


def test_the_author_cannot_mark_their_translation_reviewed(app: Flask) -> None:
    author = signed_in(app, translator(app, "olena", ("uk",), Role.REVIEWER))
    other = signed_in(app, translator(app, "taras", ("uk",), Role.REVIEWER))
    token = token_of(AGREED)
    assert (
        _save(author, "uk", token, "%(name)s погодилася бути вашим контактом.").status_code == 302
    )
    page = author.get("/portal/translate/uk?q=agreed+to+be").get_data(as_text=True)
    assert "Mark reviewed" not in entry_html(page, token)
    csrf = form_token(author, "/portal/translate/uk")
    refused = author.post("/portal/translate/uk/review", data={"csrf_token": csrf, "token": token})
    assert refused.status_code == 403
    assert "You wrote this translation" in entry_html(refused.get_data(as_text=True), token)
    with get_database(app).session() as session:
        assert session.scalars(select(UiTranslation)).one().status is TranslationStatus.DRAFT
    csrf = form_token(other, "/portal/translate/uk")
    assert (
        other.post(
            "/portal/translate/uk/review", data={"csrf_token": csrf, "token": token}
        ).status_code
        == 302
    )
    with get_database(app).session() as session:
        row = session.scalars(select(UiTranslation)).one()
        assert row.status is TranslationStatus.REVIEWED
        assert row.reviewer_id is not None


def test_a_translator_may_not_mark_reviewed(app: Flask) -> None:
    client = signed_in(app, translator(app, "olena", ("uk",)))
    csrf = form_token(client, "/portal/translate/uk")
    response = client.post(
        "/portal/translate/uk/review", data={"csrf_token": csrf, "token": token_of(AGREED)}
    )
    assert response.status_code == 403
    assert "Mark reviewed" not in client.get("/portal/translate/uk").get_data(as_text=True)


def test_the_po_files_go_down_and_up_as_the_clis(app: Flask) -> None:
    add_region(app, "kharkiv")
    client = signed_in(app, translator(app, "olena", ("uk",)))
    assert _save(client, "uk", token_of(AGREED), "%(name)s тепер ваш контакт.").status_code == 302
    ui = read_catalog(client.get("/portal/translate/uk/ui.po").get_data())
    message = ui.get(AGREED)
    assert message is not None
    assert message.string == "%(name)s тепер ваш контакт."
    assert "draft" in message.flags
    content = client.get("/portal/translate/uk/content.po?catalogue=content").get_data()
    with get_database(app).session() as session:
        cli = export_po(session, "uk")
    assert [(m.context, m.id) for m in read_catalog(content) if m.id] == [
        (m.context, m.id) for m in cli if m.id
    ]
    uploaded = content.replace(
        b'msgstr ""\n\n', b'msgstr "\xd0\xa5\xd0\xb0\xd1\x80\xd0\xba\xd1\x96\xd0\xb2"\n\n', 1
    )
    csrf = form_token(client, "/portal/translate/uk")
    response = client.post(
        "/portal/translate/uk/content.po",
        data={"csrf_token": csrf, "catalogue": "content", "file": (io.BytesIO(uploaded), "uk.po")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "1 saved" in response.get_data(as_text=True)
    with get_database(app).session() as session:
        row = session.scalars(select(Translation)).one()
        # A translator's upload stays a draft, whatever the file's flags say.
        assert (row.text, row.status) == ("Харків", TranslationStatus.DRAFT)


def test_an_uploaded_ui_catalogue_is_checked_line_by_line(app: Flask) -> None:
    client = signed_in(app, translator(app, "olena", ("uk",)))
    catalogue = read_catalog(client.get("/portal/translate/uk/ui.po").get_data())
    good, bad = catalogue.get(STOP_REPLY), catalogue.get(AGREED)
    assert good is not None
    assert bad is not None
    good.string, bad.string = NEW_STOP, "Хтось погодився."
    good.flags.discard("draft")
    csrf = form_token(client, "/portal/translate/uk")
    response = client.post(
        "/portal/translate/uk/ui.po",
        data={"csrf_token": csrf, "file": (io.BytesIO(po_bytes(catalogue)), "uk.po")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "1 saved" in page
    assert "placeholders or markup differ from the source" in page
    with get_database(app).session() as session:
        row = session.scalars(select(UiTranslation)).one()
        # A translator may not review: the file's missing draft flag leaves it a draft.
        assert (row.msgid, row.text, row.status) == (STOP_REPLY, NEW_STOP, TranslationStatus.DRAFT)
