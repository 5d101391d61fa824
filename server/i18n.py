"""Locales: negotiation, text direction from CLDR, and Flask-Babel wiring."""

from __future__ import annotations

from pathlib import Path

from babel import Locale, UnknownLocaleError
from flask import Flask, g, request
from flask_babel import Babel

DEFAULT_LOCALE = "en"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def available_locales() -> tuple[str, ...]:
    """Locales with a compiled UI catalogue, plus the source language."""
    found = {DEFAULT_LOCALE}
    if LOCALES_DIR.is_dir():
        found.update(p.name for p in LOCALES_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())
    return tuple(sorted(found))


def text_direction(locale: str) -> str:
    """'rtl' or 'ltr' for a locale, from CLDR's character order."""
    try:
        order = Locale.parse(locale.replace("-", "_")).character_order
    except (ValueError, UnknownLocaleError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def select_locale() -> str:
    """The best locale for this request among those available."""
    return request.accept_languages.best_match(available_locales()) or DEFAULT_LOCALE


def _expose_locale() -> None:
    locale = select_locale()
    g.locale = locale
    g.text_direction = text_direction(locale)


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with Refuge's catalogues and locale selector."""
    Babel(
        app,
        locale_selector=select_locale,
        default_locale=DEFAULT_LOCALE,
        default_translation_directories=str(LOCALES_DIR),
    )
    app.before_request(_expose_locale)
