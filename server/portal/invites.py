"""/portal/accounts/new (an admin makes an account and its invitation) and /portal/invite/<token>.

The new account has no password and a TOTP seed nobody has seen; the admin gets a single-use
link to send. Whoever opens it sees the seed (otpauth URI and the key as text: no QR code, which
would need a new dependency), chooses a password and types a code to prove the app holds the
seed. A used, expired or unknown link answers the same 404, whoever asks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from server import accounts, staff, vault
from server.config import app_settings
from server.db import request_session
from server.i18n.locales import ascii_digits
from server.models.staff import Invite, Permission, Role
from server.portal.access import account, public, rule, scope
from server.portal.account_scope import partners_within, reaches, regions_within
from server.portal.accounts import ROLE_NAMES, invitation_page
from server.portal.errors import error_page
from server.portal.session import blueprint, signed_in

#: Longest value of a form field read (usernames, slugs and tags are shorter).
MAX_FIELD = 64
MAX_CODE_INPUT = 16


def _new_form(error: str | None, status: int = 200) -> tuple[str, int]:
    database = request_session()
    admin_scope = scope()
    locales = [tag for tag in app_settings().localization.locales if admin_scope.covers_locale(tag)]
    return (
        render_template(
            "portal/account_new.html",
            user=account(),
            roles=ROLE_NAMES,
            regions=regions_within(database, admin_scope),
            locales=locales,
            partners=partners_within(database, admin_scope),
            error=error,
            form=request.form,
        ),
        status,
    )


@blueprint.route("/accounts/new", methods=["GET", "POST"])
@rule(Permission.MANAGE_ACCOUNTS)
def account_new() -> tuple[str, int] | str:
    """Make an account within the admin's scope and show its invitation link once."""
    if request.method == "GET":
        return _new_form(None)
    form = request.form
    try:
        role = Role(form.get("role", ""))
    except ValueError:
        return _new_form(_("Choose a role."))
    regions = [slug[:MAX_FIELD] for slug in form.getlist("region")]
    locales = [tag[:MAX_FIELD] for tag in form.getlist("locale")]
    partner = form.get("partner", "")[:MAX_FIELD] or None
    database = request_session()
    if not reaches(database, scope(), role, regions, locales, partner):
        return _new_form(
            _("An account you make must stay within your own regions and languages."), 400
        )
    try:
        made = staff.create_user(
            database,
            form.get("username", "")[:MAX_FIELD],
            None,
            role,
            regions=regions,
            locales=locales,
            partner=partner,
            known_locales=app_settings().localization.locales,
            actor=account().id,
        )
    except staff.AccountError:
        database.rollback()
        return _new_form(_cannot_create())
    now = datetime.now(UTC)
    invitation = accounts.invite(
        database, made.user, account().id, now, app_settings().invite_hours
    )
    database.commit()
    return invitation_page(made.user, invitation)


def _cannot_create() -> str:
    return str(
        _(
            "This account cannot be made as asked. A username is 2 to 64 letters, digits, dots, "
            "dashes or underscores, and not taken; an editor needs a region, a translator a "
            "language, a caseworker an organisation."
        )
    )


def _dead_link() -> tuple[str, int]:
    return error_page(
        _("This link does not work"),
        _("It may have been used already, or expired. Ask your admin for a new one."),
        404,
    )


@blueprint.route("/invite/<token>", methods=["GET", "POST"])
@public
def invite(token: str) -> BaseResponse | tuple[str, int]:
    """Set up an invited account: its seed, a password and a code; the link then dies."""
    database = request_session()
    now = datetime.now(UTC)
    found = accounts.invitation(database, token, now)
    if found is None:
        return _dead_link()
    if request.method == "GET":
        return _invite_form(found, token, None)
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return _invite_form(found, token, _("The two passwords differ."))
    if not staff.MIN_PASSWORD_LENGTH <= len(password) <= staff.MAX_PASSWORD_LENGTH:
        return _invite_form(found, token, _password_rule())
    code = ascii_digits(request.form.get("code", "")[:MAX_CODE_INPUT]).replace(" ", "")
    if accounts.accept(database, token, password, code, now) is None:
        database.rollback()
        if accounts.invitation(database, token, now) is None:  # used meanwhile by another tab
            return _dead_link()
        wrong = _("That code does not match. Check the app and try again.")
        return _invite_form(found, token, wrong)
    database.commit()
    return redirect(url_for("portal.login"))


def _password_rule() -> str:
    return str(
        _(
            "A password is %(least)d to %(most)d characters long.",
            least=staff.MIN_PASSWORD_LENGTH,
            most=staff.MAX_PASSWORD_LENGTH,
        )
    )


def _invite_form(
    found: Invite, token: str, error: str | None, status: int = 200
) -> tuple[str, int]:
    secret = staff.totp_secret(request_session(), found.user)
    username = found.user.username
    return (
        render_template(
            "portal/invite.html",
            user=signed_in(),
            username=username,
            token=token,
            uri=vault.totp_provisioning_uri(secret, username),
            secret=vault.totp_secret_text(secret),
            error=error,
        ),
        status,
    )
