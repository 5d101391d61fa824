"""UI translations saved in the database, laid over the compiled catalogues (issue 19): pages
and replies read them, a process looks again only when its interval has passed and the content
version changed, and `refuge i18n export-ui` writes them back as the shipped .po file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from server.config import ConfigError, load_config
from server.content.translation_files import read_catalog
from server.db import get_database
from server.delivery.channels import ConsoleChannel
from server.delivery.worker import Worker
from server.i18n import overrides, ui_catalogue
from server.i18n.live import LIVE
from server.i18n.locales import catalogue, compiled
from server.models.translations import TranslationStatus
from tests.conftest import refuge_env
from tests.sms_helpers import settings_of
from tests.translate_helpers import (  # noqa: F401 (the autouse fixture)
    AGREED,
    STOP_REPLY,
    _forget_overrides,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SOURCE = "test-database"


def _save(app: Flask, msgid: str, text: str, locale: str = "uk") -> None:
    message = next(m for m in ui_catalogue.template() if m.msgid == msgid)
    with get_database(app).session() as session:
        ui_catalogue.save(session, locale, message, [text], author=None, now=NOW)


def test_a_saved_translation_is_used_only_after_the_next_look(app: Flask) -> None:
    with get_database(app).session() as session:
        assert overrides.refresh(session, SOURCE, 30, now=100.0)  # first look: loaded
    _save(app, STOP_REPLY, "Більше жодних повідомлень.")
    with get_database(app).session() as session:
        assert not overrides.refresh(session, SOURCE, 30, now=110.0)  # too soon to look
        assert catalogue("uk").gettext(STOP_REPLY) == compiled("uk").gettext(STOP_REPLY)
        assert overrides.refresh(session, SOURCE, 30, now=131.0)
    assert catalogue("uk").gettext(STOP_REPLY) == "Більше жодних повідомлень."
    # Other locales and other messages keep their compiled texts.
    assert catalogue("ar").gettext(STOP_REPLY) == compiled("ar").gettext(STOP_REPLY)
    assert catalogue("uk").gettext(AGREED) == compiled("uk").gettext(AGREED)
    with get_database(app).session() as session:
        assert not overrides.refresh(session, SOURCE, 30, now=170.0)  # nothing changed since


def test_a_web_page_shows_a_saved_translation(app: Flask) -> None:
    _save(app, "Quick exit", "Швидкий вихід!")
    LIVE.forget()
    page = app.test_client().get("/uk/").get_data(as_text=True)
    assert "Швидкий вихід!" in page


def test_export_ui_writes_the_shipped_catalogue_with_the_saved_translations(
    app: Flask, tmp_path: Path
) -> None:
    _save(app, AGREED, "%(name)s тепер ваш контакт.")
    message = next(m for m in ui_catalogue.template() if m.msgid == STOP_REPLY)
    with get_database(app).session() as session:
        ui_catalogue.save(
            session,
            "uk",
            message,
            ["Більше жодних повідомлень."],
            author=None,
            status=TranslationStatus.REVIEWED,
            now=NOW,
        )
    out = tmp_path / "uk.po"
    result = app.test_cli_runner().invoke(args=["i18n", "export-ui", "uk", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 saved translations merged" in result.output
    written = read_catalog(out)
    shipped = read_catalog(ui_catalogue.po_path("uk"))
    assert len([m for m in written if m.id]) == len([m for m in shipped if m.id])
    agreed, stop = written.get(AGREED), written.get(STOP_REPLY)
    assert agreed is not None
    assert stop is not None
    assert (agreed.string, "draft" in agreed.flags) == ("%(name)s тепер ваш контакт.", True)
    assert (stop.string, "draft" in stop.flags) == ("Більше жодних повідомлень.", False)
    refused = app.test_cli_runner().invoke(args=["i18n", "export-ui", "xx"])
    assert refused.exit_code == 1


@pytest.mark.parametrize(("raw", "seconds"), [(None, 30), ("1", 1), ("60", 60)])
def test_the_reload_interval_is_a_setting_of_at_most_a_minute(
    tmp_path: Path, raw: str | None, seconds: int
) -> None:
    extra = {} if raw is None else {"REFUGE_UI_RELOAD_SECONDS": raw}
    assert load_config(refuge_env(tmp_path, **extra)).localization.ui_reload_seconds == seconds


@pytest.mark.parametrize("raw", ["0", "61", "soon"])
def test_a_reload_interval_beyond_a_minute_is_refused(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError, match="REFUGE_UI_RELOAD_SECONDS"):
        load_config(refuge_env(tmp_path, REFUGE_UI_RELOAD_SECONDS=raw))


def test_a_worker_pass_takes_up_saved_translations(app: Flask) -> None:
    _save(app, STOP_REPLY, "Більше жодних повідомлень.")
    assert catalogue("uk").gettext(STOP_REPLY) == compiled("uk").gettext(STOP_REPLY)
    Worker(get_database(app), settings_of(app), ConsoleChannel()).run_once(NOW)
    # The check-in texts a sweep writes read the same catalogue.
    assert catalogue("uk").gettext(STOP_REPLY) == "Більше жодних повідомлень."
