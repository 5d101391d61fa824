"""Error responses: JSON under /api, a calm HTML page elsewhere, never a stack trace."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith(("/api/", "/healthz"))


def _messages(code: int) -> tuple[str, str]:
    """A title and a sentence a frightened person can act on, per status code."""
    if code == 404:
        return _("Page not found"), _("This page does not exist. Go back to the start page.")
    if code == 400:
        return _("Something was wrong with that request"), _(
            "Please go back and try again. If you sent a form, your session may have expired."
        )
    if code == 405:
        return _("Not allowed"), _("This address cannot be used that way.")
    if code == 413:
        return _("Too large"), _("What you sent is too large.")
    if code == 429:
        return _("Too many requests"), _("Please wait a minute, then try again.")
    if code >= 500:
        return _("Something went wrong on our side"), _(
            "Nothing you did caused this. Please try again in a few minutes."
        )
    return _("Request refused"), _("This request could not be completed.")


def render_error(code: int, api_code: str) -> tuple[Response | str, int]:
    """Render the error for the current request: JSON for machines, HTML for people."""
    title, message = _messages(code)
    if _wants_json():
        return jsonify(error={"code": api_code, "message": title}), code
    return render_template("error.html", title=title, message=message, code=code), code


def _http_error(exc: HTTPException) -> tuple[Response | str, int]:
    code = exc.code or 500
    name = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
    return render_error(code, name)


def _unhandled(exc: Exception) -> tuple[Response | str, int]:
    # Log where it broke, not what it said: exception text can carry people's data.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "unhandled %s in %s %s\n%s", type(exc).__name__, request.method, request.endpoint, frames
    )
    return render_error(InternalServerError.code, "internal_error")


def init_app(app: Flask) -> None:
    """Register the handlers for HTTP errors and for anything unexpected."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unhandled)
