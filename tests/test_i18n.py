"""Locale negotiation in its written order, direction from CLDR, and fallbacks."""

from __future__ import annotations

import pytest
from flask import Flask, g

from server.config import Localization, StalePolicy
from server.content.localize import pick
from server.i18n import locales
from server.i18n import web as i18n_web
from server.models.translations import Translation, source_digest

AVAILABLE = ("en", "ar", "fr", "uk", "my", "bn", "rhg", "pt", "zh_Hans")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"url": "ar", "saved": "fr", "cookie": "uk", "accept": ["my"]}, "ar"),
        ({"saved": "fr", "cookie": "uk", "accept": ["my"], "region_default": "bn"}, "fr"),
        ({"cookie": "uk", "accept": ["my"], "region_default": "bn"}, "uk"),
        ({"accept": ["my", "fr"], "region_default": "bn"}, "my"),
        ({"region_default": "bn"}, "bn"),
        ({}, "en"),
        # Unknown or malformed tags at any step are skipped, not errors.
        ({"url": "xx", "cookie": "../../etc", "accept": ["!!", "fr-CA"]}, "fr"),
        ({"url": "a" * 200, "region_default": "ar"}, "ar"),
        ({"accept": ["de", "it"]}, "en"),
        # Babel negotiates regional and script tags to what is offered.
        ({"accept": ["pt_BR"]}, "pt"),
        ({"accept": ["ar-SD"]}, "ar"),
        ({"accept": ["zh-Hans-CN"]}, "zh_Hans"),
        ({"url": "rhg-Rohg"}, "rhg"),
    ],
)
def test_the_locale_is_chosen_in_the_written_order(
    kwargs: dict[str, object], expected: str
) -> None:
    assert locales.choose_locale(AVAILABLE, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ar-SD,ar;q=0.9,en;q=0.5", "ar"),
        ("de-DE,fr;q=0.8", "fr"),
        ("my-MM", "my"),
        ("*", "en"),
        ("", "en"),
        (";;;q=abc,,,", "en"),
        ("en;q=garbage, uk;q=0.9", "uk"),
        ("x" * 5000, "en"),
    ],
)
def test_accept_language_headers_never_break_a_page(app: Flask, header: str, expected: str) -> None:
    with app.test_request_context("/no-such-page", headers={"Accept-Language": header}):
        app.preprocess_request()
        assert g.locale == expected
    response = app.test_client().get("/no-such-page", headers={"Accept-Language": header})
    assert response.status_code == 404


def test_the_language_cookie_beats_the_browser(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie(i18n_web.LANGUAGE_COOKIE, "ar")
    page = client.get("/no-such-page", headers={"Accept-Language": "fr"})
    assert '<html lang="ar" dir="rtl">' in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("locale", "direction"),
    [("ar", "rtl"), ("en", "ltr"), ("my", "ltr"), ("bn", "ltr"), ("uk", "ltr"), ("fa", "rtl")],
)
def test_direction_comes_from_cldr(locale: str, direction: str) -> None:
    assert locales.text_direction(locale) == direction


def test_rohingya_is_written_in_latin_left_to_right_by_override() -> None:
    scripts = dict(Localization().scripts)
    assert locales.text_direction("rhg") == "rtl"  # CLDR's Hanifi default
    assert locales.text_direction("rhg", scripts) == "ltr"
    assert locales.html_lang("rhg", scripts) == "rhg-Latn"
    assert locales.text_direction("rhg_Rohg", scripts) == "rtl"  # Hanifi content stays possible
    assert locales.script_direction("Arab") == "rtl"
    assert locales.script_direction("Latn") == "ltr"


def test_numbers_stay_left_to_right_inside_right_to_left_text() -> None:
    assert str(i18n_web.ltr("+44 7700 900123")) == '<bdi dir="ltr">+44 7700 900123</bdi>'
    assert "<script>" not in str(i18n_web.ltr("<script>"))


def _row(field: str, locale: str, text: str, source: str) -> Translation:
    row = Translation(entity="resource", entity_id="r1", field=field, locale=locale, text=text)
    row.source_digest = source_digest(source)
    return row


def test_a_missing_translation_falls_back_along_the_chain() -> None:
    source = "Health post"
    arabic = _row("name", "ar", "مركز صحي", source)
    burmese = _row("name", "my", "ကျန်းမာရေးဌာန", source)
    rows = {("r1", "name", "ar"): arabic, ("r1", "name", "my"): burmese}
    localization = Localization(fallbacks=(("fa", ("ar",)),))
    shown = pick(rows, "r1", "name", source, "en", "fa", localization)
    assert (shown.text, shown.locale) == ("مركز صحي", "ar")
    assert shown.is_fallback("fa")
    assert pick({}, "r1", "name", source, "en", "fa", localization).locale == "en"
    # Rohingya, read in Latin letters, skips the Burmese text for English.
    assert pick(rows, "r1", "name", source, "en", "rhg", localization).text == source
    assert localization.chain("rhg") == ("rhg", "en")
    assert localization.chain("fr") == ("fr", "en")


def test_a_stale_translation_is_marked_or_skipped_by_policy() -> None:
    rows = {("r1", "name", "ar"): _row("name", "ar", "مركز صحي", "Old source")}
    marked = pick(rows, "r1", "name", "New source", "en", "ar", Localization())
    assert marked.locale == "ar"
    assert marked.stale
    strict = Localization(stale_policy=(("ar", StalePolicy.FALLBACK),))
    fallback = pick(rows, "r1", "name", "New source", "en", "ar", strict)
    assert (fallback.text, fallback.locale, fallback.stale) == ("New source", "en", False)


@pytest.mark.parametrize(
    ("cookie", "html"),
    [
        ("ar", '<html lang="ar" dir="rtl">'),
        ("rhg", '<html lang="rhg-Latn" dir="ltr">'),
        ("my", '<html lang="my" dir="ltr">'),
        ("uk", '<html lang="uk" dir="ltr">'),
    ],
)
def test_every_page_carries_its_language_and_direction(app: Flask, cookie: str, html: str) -> None:
    client = app.test_client()
    client.set_cookie(i18n_web.LANGUAGE_COOKIE, cookie)
    page = client.get("/no-such-page").get_data(as_text=True)
    assert html in page
    assert "Page not found" not in page  # the heading is translated
