"""The partner portal under /portal: NGO caseworkers log in (password and TOTP) and download
their organisation's sealed notes, still sealed, to open offline with `refuge notes open`;
partners read the signals of their regions (`signals.py`).

Every page is no-store and noindex, works without JavaScript and asks nothing of other sites.
The language is the browser's (Accept-Language) unless `?lang=` names another, which links
between portal pages then keep.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError

from server.i18n.locales import url_tag
from server.portal import (
    accounts,
    audit_log,
    auth,
    editing,
    errors,
    home,
    invites,
    notes,
    review,
    signals,
    translate,
    words,
)
from server.portal.session import blueprint
from server.web.pages import language_names
from server.web.ratelimit import RateLimiter

__all__ = [
    "accounts",
    "audit_log",
    "auth",
    "editing",
    "errors",
    "home",
    "init_app",
    "invites",
    "notes",
    "review",
    "signals",
    "translate",
]

LANG_PARAMETER = "lang"


@blueprint.url_value_preprocessor
def _requested_locale(_endpoint: str | None, _values: dict[str, object] | None) -> None:
    # Runs before the app's locale negotiation (`server.i18n`), which reads it first.
    raw = request.args.get(LANG_PARAMETER)
    if raw:
        g.requested_locale = raw


@blueprint.url_defaults
def _keep_locale(_endpoint: str, values: dict[str, object]) -> None:
    if LANG_PARAMETER not in values and g.get("requested_locale") and "locale" in g:
        values[LANG_PARAMETER] = url_tag(g.locale)


@blueprint.context_processor
def _languages() -> dict[str, object]:
    def portal_languages() -> list[tuple[str, str, str]]:
        # A page reached by POST (a failed login) links back to the login form instead.
        endpoint = request.endpoint if request.method == "GET" else None
        # A page naming a record (a workspace's locale) keeps naming it in every language; an
        # error page links to the start, so a hidden record's page reads as a missing one's.
        values = dict(request.view_args or {}) if endpoint else {}
        if g.get("portal_error"):
            endpoint, values = "portal.home", {}
        return [
            (tag, name, url_for(endpoint or "portal.login", **{**values, "lang": tag}))
            for tag, name in language_names()
        ]

    return {"portal_languages": portal_languages, "word": words.word}


blueprint.add_app_template_filter(words.word, "portal_word")


@blueprint.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@blueprint.errorhandler(CSRFError)
def _form_expired(_error: CSRFError) -> tuple[str, int]:
    # Signed in: a portal page leading back (the login form would look like a lost session).
    return errors.form_expired()


@blueprint.errorhandler(OperationalError)
@blueprint.errorhandler(IntegrityError)
def _busy(error: Exception) -> tuple[str, int]:
    # Two audit entries appended at once on SQLite, or a database away for a moment: the
    # request's session is rolled back when it closes, so nothing half-written stays.
    current_app.logger.warning("portal: database busy (%s)", type(error).__name__)
    return auth.login_page(_("Sorry, something went wrong. Please try again soon."), 503)


def init_app(app: Flask) -> None:
    """Register the portal and its login limiter."""
    app.extensions[auth.LIMITER_EXTENSION] = RateLimiter(limit=auth.LOGINS_PER_WINDOW)
    app.register_blueprint(blueprint)
