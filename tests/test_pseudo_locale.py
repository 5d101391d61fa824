"""The pseudo-locale finds strings that skipped translation, and text that does not fit."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from server.app import create_app
from server.config import Settings
from server.i18n import locales
from server.i18n import web as i18n_web
from server.i18n.tools import PLACEHOLDER, pseudo_text
from tests.pseudo import untranslated


def test_pseudo_text_is_longer_accented_bracketed_and_keeps_placeholders() -> None:
    text = "Call %(number)s now, or {name} <b>today</b>"
    pseudo = pseudo_text(text)
    assert pseudo.startswith("[")
    assert pseudo.endswith("]")
    assert len(pseudo) >= len(text) * 1.4
    assert PLACEHOLDER.findall(pseudo) == PLACEHOLDER.findall(text)
    assert "Çàĺĺ" in pseudo


def test_every_error_page_is_fully_translated_in_the_pseudo_locale(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie(i18n_web.LANGUAGE_COOKIE, locales.url_tag(locales.PSEUDO_LOCALE))
    page = client.get("/no-such-page").get_data(as_text=True)
    assert "[" in page
    assert untranslated(page) == []


def test_the_check_catches_a_string_that_skipped_gettext() -> None:
    assert untranslated("<p>[Ṕàĝé ~~]</p><p>Plain English</p>") == ["Plain English"]


def test_the_pseudo_locale_is_offered_in_development_only(
    app: Flask, make_settings: Callable[..., Settings]
) -> None:
    assert locales.PSEUDO_LOCALE in i18n_web.available_locales(app)
    production = create_app(
        make_settings(
            REFUGE_ENV="production",
            REFUGE_ALLOW_SQLITE="true",
            REFUGE_SMS_BACKEND="twilio",
            REFUGE_TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            REFUGE_TWILIO_FROM="+15550100",
            REFUGE_PUBLIC_URL="https://refuge.example.org",
        )
    )
    assert locales.PSEUDO_LOCALE not in i18n_web.available_locales(production)
    client = production.test_client()
    client.set_cookie(i18n_web.LANGUAGE_COOKIE, locales.url_tag(locales.PSEUDO_LOCALE))
    assert "[" not in client.get("/no-such-page").get_data(as_text=True)
