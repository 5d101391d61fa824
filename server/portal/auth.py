"""GET/POST /portal/login and POST /portal/logout: username, password and TOTP code in one form.

Every failure reads the same and costs the same; the client is rate-limited by a keyed digest
of its address that is forgotten each minute (`server.web.ratelimit`), never the address.
A login sets the device cookie (`staff.device_token`): at that browser, later, the account's
owner is not stopped by a lock strangers' failures set (docs/threat-model.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.exc import OperationalError
from werkzeug.wrappers import Response as BaseResponse
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from server import staff
from server.db import request_session
from server.i18n.locales import ascii_digits
from server.models.staff import USERNAME_LENGTH
from server.portal.access import public
from server.portal.session import begin, blueprint, end, signed_in
from server.web.ratelimit import RateLimiter

LIMITER_EXTENSION = "refuge.portal.limiter"
#: Login attempts one client may make per minute, per process (the account lock is separate).
LOGINS_PER_WINDOW = 10
MAX_CODE_INPUT = 16
DEVICE_COOKIE = "refuge_portal_device"
#: A browser stays known this long after its last login there.
DEVICE_LIFETIME = timedelta(days=180)
#: Accounts one browser is remembered for (a shared office computer).
DEVICE_TOKENS_KEPT = 4
MAX_DEVICE_COOKIE = 400


class LoginForm(FlaskForm):  # type: ignore[misc]
    """Username, password and the authenticator's code (with Flask-WTF's CSRF token)."""

    username = StringField(validators=[InputRequired(), Length(max=USERNAME_LENGTH)])
    password = PasswordField(validators=[InputRequired(), Length(max=staff.MAX_PASSWORD_LENGTH)])
    code = StringField(validators=[InputRequired(), Length(max=MAX_CODE_INPUT)])


def limiter() -> RateLimiter:
    """This app's login limiter."""
    found: RateLimiter = current_app.extensions[LIMITER_EXTENSION]
    return found


def login_page(error: str | None, status: int = 200) -> tuple[str, int]:
    """The login form, with an error when there is one."""
    return render_template("portal/login.html", form=LoginForm(), error=error), status


@blueprint.route("/login", methods=["GET", "POST"])
@public
def login() -> BaseResponse | tuple[str, int]:
    """Log in; a failure never says which of the three was wrong, or whether the name exists."""
    if signed_in() is not None:
        return redirect(url_for("portal.home"))
    if request.method == "GET":
        return login_page(None)
    if limiter().hit(request.remote_addr or "") is not None:
        return login_page(_("Too many tries. Try again later."), 429)
    form = LoginForm()
    user, token = None, None
    if form.validate_on_submit():
        code = ascii_digits(form.code.data or "").replace(" ", "")
        database = request_session()
        try:
            user = staff.log_in(
                database,
                form.username.data,
                form.password.data,
                code,
                datetime.now(UTC),
                device_tokens(),
            )
            token = staff.device_token(database, user) if user is not None else None
            database.commit()
        except OperationalError:  # a busy database: nothing was written, the caseworker retries
            current_app.logger.warning("portal login: database busy")
            return login_page(_("Sorry, something went wrong. Please try again soon."), 503)
    if user is None:
        return login_page(_("Those details do not match. Check them and try again."), 401)
    begin(user)
    response = redirect(url_for("portal.home"))
    if token is not None:
        remember_device(response, token)
    return response


def device_tokens() -> list[str]:
    """The device tokens this browser holds (none when its cookie is missing or odd)."""
    raw = request.cookies.get(DEVICE_COOKIE, "")
    return raw.split(".")[:DEVICE_TOKENS_KEPT] if len(raw) <= MAX_DEVICE_COOKIE else []


def remember_device(response: BaseResponse, token: str) -> None:
    """Keep `token` first in the device cookie, with the few other accounts' it held."""
    account = token.split("-", 1)[0]
    others = [held for held in device_tokens() if held and not held.startswith(account)]
    response.set_cookie(
        DEVICE_COOKIE,
        ".".join([token, *others][:DEVICE_TOKENS_KEPT]),
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        path=blueprint.url_prefix or "/",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Strict",
    )


@blueprint.post("/logout")
@public
def logout() -> BaseResponse:
    """End the session here and everywhere the account's cookie was copied to."""
    user = signed_in()
    if user is not None:
        database = request_session()
        staff.log_out(database, user, datetime.now(UTC))
        database.commit()
    end()
    return redirect(url_for("portal.login"))
