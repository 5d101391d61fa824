"""The workspace's page and what its forms do: which entries a view shows, saving one
translation, marking one reviewed, and the words a refusal is told in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.config import app_settings
from server.content.translation_checks import Problem, check_translation
from server.content.translation_files import ImportReport, save_translation
from server.db import request_session
from server.i18n import ui_catalogue, workspace
from server.i18n.locales import html_lang, text_direction, url_tag
from server.i18n.workspace import Catalogue, State
from server.models.staff import Permission
from server.models.translations import Translation, TranslationStatus
from server.portal.access import account
from server.web.pages import language_names


def _(text: str, **values: object) -> str:
    """A message of the catalogue in the request's language, as a plain str."""
    return str(gettext(text, **values))


#: Entries on one page of the workspace.
PAGE_SIZE = 25
#: The longest search the workspace's filter takes.
MAX_QUERY = 100

STATE_NAMES = {
    State.UNTRANSLATED: _l("Untranslated"),
    State.STALE: _l("Stale: the source changed"),
    State.DRAFT: _l("Draft"),
    State.REVIEWED: _l("Reviewed"),
}
CATALOGUE_NAMES = {
    Catalogue.UI: _l("Web pages and SMS replies"),
    Catalogue.CONTENT: _l("Content"),
}


@dataclass(frozen=True)
class View:
    """What the workspace shows: one catalogue, entries in one state (or all), one page."""

    catalogue: Catalogue
    state: State | None
    number: int
    query: str = ""

    @classmethod
    def of(cls, values: Mapping[str, str]) -> View:
        """The view a query string or form names; anything unknown falls back to the default."""
        catalogue = {item.value: item for item in Catalogue}.get(
            values.get("catalogue", ""), Catalogue.UI
        )
        state = {item.value: item for item in State}.get(values.get("state", ""))
        raw = values.get("page", "1")
        number = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 6 else 1
        query = " ".join(values.get("q", "").split())[:MAX_QUERY]
        return cls(catalogue, state, max(number, 1), query)

    def catalogue_of(self, token: str) -> Catalogue:
        """A form's entry: UI messages are named by digest, content fields by msgctxt."""
        return Catalogue.UI if token.startswith("ui-") else Catalogue.CONTENT

    def args(self, **changes: object) -> dict[str, Any]:
        """This view's query values, with some changed."""
        values: dict[str, Any] = {"catalogue": self.catalogue.value, "page": self.number}
        if self.state is not None:
            values["state"] = self.state.value
        if self.query:
            values["q"] = self.query
        values.update(changes)
        return {key: value for key, value in values.items() if value is not None}

    def url(self, locale: str, anchor: str | None = None) -> str:
        """The workspace page of this view."""
        return url_for("portal.translate", language=locale, _anchor=anchor, **self.args())


def page(
    locale: str,
    view: View,
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, list[str]] | None = None,
    upload_error: str | None = None,
    report: ImportReport | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The workspace page for a view, with any refusal shown at its entry."""
    settings = app_settings()
    found = workspace.entries(
        request_session(), settings, locale, catalogue=view.catalogue, state=view.state
    )
    if view.query:
        wanted = view.query.casefold()
        found = [
            entry
            for entry in found
            if any(wanted in text.casefold() for text in (entry.source, *entry.forms))
        ]
    pages = max(1, -(-len(found) // PAGE_SIZE))
    number = min(view.number, pages)
    shown = found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    scripts = dict(settings.localization.scripts)
    user = account()
    return render_template(
        "portal/translate.html",
        user=user,
        locale=locale,
        language_name=dict(language_names()).get(url_tag(locale), locale),
        target_lang=html_lang(locale, scripts),
        target_dir=text_direction(locale, scripts),
        view=View(view.catalogue, view.state, number, view.query),
        pages=pages,
        total=len(found),
        entries=shown,
        plurals=ui_catalogue.plural_count(locale),
        may_review=Permission.REVIEW_TRANSLATIONS in user.role.permissions,
        errors=errors or {},
        typed=typed or {},
        upload_error=upload_error,
        report=report,
        state_names=STATE_NAMES,
        catalogue_names=CATALOGUE_NAMES,
        states=list(State),
        catalogues=list(Catalogue),
    ), status


def save(locale: str, catalogue: Catalogue, token: str, texts: list[str]) -> str | None:
    """Save one translation as a draft by this account; the reason when it is refused."""
    if not texts or not all(text.strip() for text in texts):
        return _("Write the translation before saving.")
    database = request_session()
    now = datetime.now(UTC)
    if catalogue is Catalogue.UI:
        message = ui_catalogue.by_token(token)
        refused = ui_catalogue.check(message, texts, locale)
        if refused is not None or message is None:
            return ui_refusal(refused)
        ui_catalogue.save(database, locale, message, texts, author=account().id, now=now)
        return None
    item = workspace.content_field(database, token)
    check = check_translation(item, texts[0], locale, context=token)
    if check is not None or item is None:
        return refusal(
            check.problem if check else Problem.UNKNOWN_FIELD, check.reason if check else ""
        )
    save_translation(database, item, locale, texts[0], now=now, author=account().id)
    return None


def ui_refusal(refused: ui_catalogue.Check | None) -> str:
    """A UI check's refusal, in the reader's language."""
    if refused is not None and refused.problem is ui_catalogue.Problem.PLACEHOLDERS:
        return placeholders_refusal(refused.reason.split(": ", 1)[-1])
    if refused is not None and refused.problem is ui_catalogue.Problem.MARKUP:
        return _("Not saved: links and markup are limited (%(detail)s).", detail=refused.reason)
    if refused is not None and refused.problem is ui_catalogue.Problem.KEYWORD:
        return _("SMS keywords change only with a release: ask the Refuge developers.")
    return _("This message is no longer in Refuge. Reload the page.")


def placeholders_refusal(detail: str) -> str:
    """A refusal for placeholders or markup that differ from the source."""
    return _(
        "Not saved: the placeholders and markup must be the same as in the source (%(detail)s).",
        detail=detail,
    )


def refusal(problem: Problem, reason: str) -> str:
    """A content check's refusal, in the reader's language (its detail as the check says it)."""
    if problem is Problem.PLACEHOLDERS:
        return placeholders_refusal(reason.split(": ", 1)[-1])
    if problem is Problem.MARKUP:
        return _("Not saved: links and markup are limited (%(detail)s).", detail=reason)
    if problem is Problem.SMS_LENGTH:
        return _(
            "Not saved: this text goes by SMS and must fit one message (%(detail)s).",
            detail=reason.rsplit("(", 1)[-1].rstrip(")"),
        )
    return _("This field is no longer there to translate. Reload the page.")


def review(locale: str, catalogue: Catalogue, token: str) -> tuple[str | None, int]:
    """Mark a translation reviewed; the refusal and its status when it cannot be."""
    database = request_session()
    user = account()
    now = datetime.now(UTC)
    if catalogue is Catalogue.UI:
        message = ui_catalogue.by_token(token)
        row = ui_catalogue.saved(database, locale).get(message.key) if message else None
        if message is None:
            return _("This message is no longer in Refuge. Reload the page."), 404
        if row is not None and row.author_id == user.id:
            return author_refusal(), 403
        if not ui_catalogue.review(database, locale, message, user.id, now):
            return _("There is no translation to review yet."), 422
        return None, 200
    item = workspace.content_field(database, token)
    found = (
        database.scalar(
            select(Translation).where(
                Translation.entity == item.entity,
                Translation.entity_id == item.entity_id,
                Translation.field == item.field,
                Translation.locale == locale,
            )
        )
        if item is not None
        else None
    )
    if found is None or item is None or found.is_stale(item.source):
        return _("There is no current translation to review."), 422
    if found.author_id == user.id:
        return author_refusal(), 403
    found.status, found.reviewer_id, found.updated_at = TranslationStatus.REVIEWED, user.id, now
    database.flush()
    return None, 200


def author_refusal() -> str:
    """Why the author may not review their own translation."""
    return _("You wrote this translation: another reviewer of this language must review it.")
