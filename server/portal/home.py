"""GET /portal/: where a signed-in account starts, with a link to each section its role opens.

A section is listed here once (`SECTIONS`), with the permission it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l

from server.models.staff import Permission
from server.portal.access import account, rule
from server.portal.forms import EDITABLES
from server.portal.session import blueprint


@dataclass(frozen=True)
class Section:
    """A part of the portal: the permission it needs, its page, and its name."""

    permission: Permission
    endpoint: str
    name: object  # a lazy translation: rendered in the request's language


SECTIONS: tuple[Section, ...] = (
    Section(Permission.READ_NOTES, "portal.notes", _l("Sealed notes")),
    Section(Permission.READ_SIGNALS, "portal.signals", _l("Signals")),
    Section(Permission.TRANSLATE, "portal.translate_locales", _l("Translations")),
    Section(Permission.MANAGE_ACCOUNTS, "portal.account_list", _l("Accounts")),
    Section(Permission.MANAGE_ACCOUNTS, "portal.audit_page", _l("Audit log")),
    Section(Permission.REVIEW_CONTENT, "portal.review", _l("Drafts to review")),
    *(Section(Permission.EDIT_CONTENT, f"portal.{each.slug}", each.title) for each in EDITABLES),
)


def opens(section: Section) -> bool:
    """Whether this request's account may open `section` (notes need an NGO to read)."""
    user = account()
    if section.permission not in user.role.permissions:
        return False
    if section.permission is Permission.READ_NOTES and user.organisation is None:
        return False
    return section.endpoint in current_app.view_functions


@blueprint.get("/")
@rule(None)
def home() -> str:
    """The sections this account may open, whatever their number: one start page for all."""
    open_to = [section for section in SECTIONS if opens(section)]
    return render_template("portal/home.html", user=account(), sections=open_to)
