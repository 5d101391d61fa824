"""Locales in Flask: the locale of each request (in the order `server.i18n.locales` writes
down), Flask-Babel's catalogues and selector, and the template filters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from babel.support import NullTranslations
from flask import Flask, current_app, g, request
from flask_babel import Babel, Domain, get_locale
from markupsafe import Markup, escape

from server.config import app_settings
from server.db import get_database
from server.i18n import overrides
from server.i18n.locales import (
    DEFAULT_LOCALE,
    LOCALES_DIR,
    PSEUDO_LOCALE,
    catalogue,
    choose_locale,
    html_lang,
    text_direction,
)

LANGUAGE_COOKIE = "lang"


def ltr(value: object) -> Markup:
    """Keep a number, phone number or code left-to-right inside right-to-left text."""
    return Markup('<bdi dir="ltr">%s</bdi>') % escape(value)


def available_locales(app: Flask | None = None) -> tuple[str, ...]:
    """The locales this instance serves (the pseudo-locale too, in development)."""
    settings = app_settings(app)
    locales = tuple(settings.localization.locales)
    return (*locales, PSEUDO_LOCALE) if not settings.production else locales


def select_locale() -> str:
    """The locale of the current request (Flask-Babel's selector)."""
    if "locale" not in g:
        _expose_locale()
    locale: str = g.locale
    return locale


View = TypeVar("View", bound=Callable[..., object])
#: Set on a view that answers no person in a language of the request (a provider's webhook).
NO_LOCALE = "_refuge_no_locale"


def without_locale(view: View) -> View:
    """Mark a view that needs no locale negotiation: its answers choose their own language."""
    setattr(view, NO_LOCALE, True)
    return view


def _expose_locale() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, NO_LOCALE, False):
        return
    settings = app_settings()
    view_args = request.view_args or {}
    g.locale = choose_locale(
        available_locales(),
        url=view_args.get("locale") or g.get("requested_locale"),
        saved=g.get("subscriber_locale"),
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        accept=[tag for tag, _quality in request.accept_languages],
        region_default=g.get("region_default_locale"),
    )
    scripts = dict(settings.localization.scripts)
    g.text_direction = text_direction(g.locale, scripts)
    g.html_lang = html_lang(g.locale, scripts)


class LiveDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's domain reading `catalogue`: compiled, with the portal's saved texts over it."""

    def get_translations(self) -> NullTranslations:
        """The request's catalogue (never cached per request: `catalogue` keeps it current)."""
        locale = get_locale()
        return NullTranslations() if locale is None else catalogue(str(locale))


def refresh_overrides() -> None:
    """Reload saved UI translations when they changed (looked at most every few seconds)."""
    database = get_database()
    every = app_settings().localization.ui_reload_seconds
    source = database.engine.url.render_as_string(hide_password=True)
    with database.sessionmaker() as session:
        overrides.refresh(session, source, every)


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with Refuge's catalogues, selector and template helpers."""
    babel = Babel(
        app,
        locale_selector=select_locale,
        default_locale=DEFAULT_LOCALE,
        default_translation_directories=str(LOCALES_DIR),
    )
    babel.domain_instance = LiveDomain(domain="messages")
    app.before_request(refresh_overrides)
    app.before_request(_expose_locale)
    app.jinja_env.filters["ltr"] = ltr
