"""/portal/translate: a translator's workspace for each locale of the account.

`/portal/translate/<locale>` lists the UI messages and content fields with their source, their
translation and its state, filtered by catalogue and state; each is saved on its own, checked
as the `.po` imports check it, and its SMS cost is shown beside it. A reviewer of the locale
(not the translation's author) marks it reviewed. The same `.po` files as the CLI go down and
up, for Weblate or Poedit. A locale outside the account's answers 404 like an unknown one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from server import audit
from server.config import app_settings
from server.content.translation_files import (
    TranslationFileError,
    export_po,
    import_po,
    po_bytes,
)
from server.db import request_session
from server.i18n import ui_catalogue
from server.i18n.locales import DEFAULT_LOCALE
from server.i18n.workspace import Catalogue
from server.models.staff import AuditAction, Permission
from server.portal import translate_forms as forms
from server.portal.access import account, rule, scope
from server.portal.session import blueprint


def workspace_locale(tag: str) -> str:
    """The locale named in the URL, when this account translates into it; else 404.

    (The URL names it `language`, not `locale`: that one chooses the language of the page.)
    """
    locale = tag.replace("-", "_")
    offered = app_settings().localization.locales
    if locale == DEFAULT_LOCALE or locale not in offered or not scope().covers_locale(locale):
        abort(404)
    return locale


def account_locales() -> list[str]:
    """The locales this account translates into, in the configured order."""
    offered = app_settings().localization.locales
    return [tag for tag in offered if tag != DEFAULT_LOCALE and scope().covers_locale(tag)]


@blueprint.get("/translate/")
@rule(Permission.TRANSLATE)
def translate_locales() -> BaseResponse | str:
    """The account's locales; straight to the workspace when there is one."""
    locales = account_locales()
    if len(locales) == 1:
        return redirect(url_for("portal.translate", language=locales[0]))
    return render_template("portal/translate_locales.html", user=account(), locales=locales)


@blueprint.get("/translate/<language>")
@rule(Permission.TRANSLATE)
def translate(language: str) -> tuple[str, int]:
    """The workspace: entries of the chosen catalogue and state, a page at a time."""
    return forms.page(workspace_locale(language), forms.View.of(request.args))


@blueprint.post("/translate/<language>/save")
@rule(Permission.TRANSLATE)
def translate_save(language: str) -> BaseResponse | tuple[str, int]:
    """Save one translation as a draft, or show the page again with why it was refused."""
    locale = workspace_locale(language)
    view = forms.View.of(request.form)
    token = request.form.get("token", "")
    texts = [text.replace("\r\n", "\n") for text in request.form.getlist("text")]
    if not token:
        return redirect(view.url(locale))
    problem = forms.save(locale, view.catalogue_of(token), token, texts)
    if problem is not None:
        return forms.page(locale, view, errors={token: problem}, typed={token: texts}, status=422)
    _audit(AuditAction.TRANSLATION_SAVED, locale, token)
    return redirect(view.url(locale, anchor=token))


@blueprint.post("/translate/<language>/review")
@rule(Permission.REVIEW_TRANSLATIONS)
def translate_review(language: str) -> BaseResponse | tuple[str, int]:
    """Mark a translation reviewed: a reviewer of this locale who did not write it."""
    locale = workspace_locale(language)
    view = forms.View.of(request.form)
    token = request.form.get("token", "")
    if not token:
        return redirect(view.url(locale))
    problem, status = forms.review(locale, view.catalogue_of(token), token)
    if problem is not None:
        return forms.page(locale, view, errors={token: problem}, status=status)
    _audit(AuditAction.TRANSLATION_REVIEWED, locale, token)
    return redirect(view.url(locale, anchor=token))


@blueprint.get("/translate/<language>/<any(ui, content):catalogue>.po")
@rule(Permission.TRANSLATE)
def translate_download(language: str, catalogue: str) -> Response:
    """The catalogue as the CLI writes it: `export-ui`, or `export-content`."""
    locale = workspace_locale(language)
    database = request_session()
    if catalogue == Catalogue.UI.value:
        data = po_bytes(ui_catalogue.merged_catalog(database, locale))
    else:
        data = po_bytes(export_po(database, locale))
    response = Response(data, mimetype="text/x-gettext-translation")
    filename = f"refuge-{catalogue}-{locale}.po"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blueprint.post("/translate/<language>/<any(ui, content):catalogue>.po")
@rule(Permission.TRANSLATE)
def translate_upload(language: str, catalogue: str) -> BaseResponse | tuple[str, int]:
    """Apply an uploaded .po file as `import-content` does (drafts, for a translator)."""
    locale = workspace_locale(language)
    view = forms.View.of(request.form)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return redirect(view.url(locale))
    database = request_session()
    user = account()
    may_review = Permission.REVIEW_TRANSLATIONS in user.role.permissions
    now = datetime.now(UTC)
    data = upload.read()
    try:
        if catalogue == Catalogue.UI.value:
            report = ui_catalogue.import_catalog(
                database, data, locale, author=user.id, may_review=may_review, now=now
            )
        else:
            report = import_po(
                database, data, locale=locale, now=now, author=user.id, may_review=may_review
            )
    except TranslationFileError as exc:
        database.rollback()
        message = _(
            "This file cannot be read (line %(line)s): %(reason)s",
            line=exc.line or "?",
            reason=exc.reason,
        )
        return forms.page(locale, view, upload_error=message, status=422)
    audit.record(
        database,
        AuditAction.TRANSLATIONS_UPLOADED,
        now,
        user.id,
        {"locale": locale, "catalogue": catalogue, "applied": report.applied},
    )
    database.commit()
    return forms.page(locale, view, report=report, status=422 if report.refused else 200)


def _audit(action: AuditAction, locale: str, token: str) -> None:
    database = request_session()
    audit.record(
        database, action, datetime.now(UTC), account().id, {"locale": locale, "field": token}
    )
    database.commit()
