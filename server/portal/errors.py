"""The portal's own error pages: 403, 404 and an expired form, inside the portal's layout.

A signed-in account keeps its name and Log out on them, in its language, and a link back to
where it was; a visitor whose login form expired gets the login form again.
"""

from __future__ import annotations

from flask import current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from server.portal import auth
from server.portal.session import blueprint, signed_in


def back_link(*, here: bool) -> str:
    """A page to go back to: this address (when `here` and it can be shown), else one above it.

    A missing record's page leads above it, so that it reads the same as a hidden one's.
    """
    adapter = current_app.url_map.bind_to_environ(request.environ)
    path = request.path.rstrip("/")
    if not here:
        path = path.rsplit("/", 1)[0]
    while path.startswith("/portal/"):
        try:
            endpoint, values = adapter.match(path, method="GET")
        except (NotFound, MethodNotAllowed):
            path = path.rsplit("/", 1)[0]
            continue
        except HTTPException:  # a redirect to the slashed form: that one is fine
            break
        return url_for(endpoint, **values)
    return url_for("portal.home")


def error_page(
    title: str, message: str, status: int, *, here: bool = False, home: bool = False
) -> tuple[str, int]:
    """A portal page saying what went wrong, with the account's name and Log out when signed in.

    Its link leads back (see `back_link`), or to the portal's start when `home`.
    """
    back = url_for("portal.home") if home else back_link(here=here)
    g.portal_error = True  # its language links lead to the start (`portal._languages`)
    return (
        render_template(
            "portal/error.html", user=signed_in(), title=title, message=message, back=back
        ),
        status,
    )


def form_expired() -> tuple[str, int]:
    """A form posted without a valid token: the login form again, or a page leading back."""
    if signed_in() is None:
        return auth.login_page(_("The form expired. Please try again."), 400)
    return error_page(
        _("The form expired"),
        _("The form expired before it was sent, so nothing was changed. Go back and try again."),
        400,
        here=True,
    )


@blueprint.errorhandler(403)
def forbidden(_error: HTTPException) -> tuple[str, int]:
    """Signed in, but the role does not open this page."""
    return error_page(
        _("Not open to your account"),
        _("Your role does not open this page. Ask an admin if you need it."),
        403,
        home=True,  # the pages around it are likely closed to this role too
    )


@blueprint.errorhandler(404)
def not_found(_error: HTTPException) -> tuple[str, int]:
    """Nothing here, or nothing this account may see: the same page either way."""
    return error_page(
        _("Page not found"), _("This page does not exist, or it is not open to your account."), 404
    )
