"""/portal/<kind>/: list, create, view, edit, roll back and (resources) mark verified.

One set of views serves every editable kind (`server.portal.forms.EDITABLES`): each kind gets
its own endpoints (`portal.bulletins`, `portal.bulletins_record`, ...) so the authorization
matrix tries every one. A saved change is a version (`server.content.drafts`): a draft until a
reviewer approves it where review is required, else live at once; either way audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from server import audit
from server.content import drafts
from server.content.kinds import RESOURCE
from server.content.records import Canonical
from server.db import request_session
from server.models.drafts import RecordVersion, VersionState
from server.models.staff import AuditAction, Permission
from server.portal import history, scoping
from server.portal.access import account, rule, scope
from server.portal.forms import EDITABLES, Editable, checked, shown, submitted
from server.portal.previews import parts
from server.portal.problems import said
from server.portal.session import blueprint

Page = BaseResponse | str | tuple[str, int]


def _now() -> datetime:
    return datetime.now(UTC)


def _record(editable: Editable, record_id: str) -> tuple[Any, list[RecordVersion]]:
    """The live row (or None) and the versions of a record in scope; 404 when there is neither."""
    session = request_session()
    row = drafts.live_row(session, editable.kind, record_id)
    versions = drafts.history(session, editable.kind, record_id)
    form = editable.kind.canonical(row) if row is not None else None
    if form is None and versions:
        form = versions[0].form
    if form is None or not scoping.form_covered(session, scope(), editable.kind, form):
        abort(404)
    if editable.bulletin_kinds and form.get("kind") not in editable.bulletin_kinds:
        abort(404)
    return row, versions


def _problems_of(editable: Editable, form: Canonical | None, base: str | None) -> list[str]:
    """What stops a checked form from being saved: regions outside the scope, a stale base."""
    session = request_session()
    found = []
    if form is not None:
        missing = drafts.missing_references(session, editable.kind, form)
        if missing:
            found.append(_("Not found: %(names)s", names=", ".join(missing)))
        long = drafts.too_long(editable.kind, form)
        if long:
            found.append(_("Too long: %(names)s", names=", ".join(long)))
        taken = drafts.taken_ids(session, editable.kind, form)
        if taken:
            found.append(_("Already used by another record: %(names)s", names=", ".join(taken)))
        foreign = scoping.outside(session, scope(), editable.kind, form)
        if foreign:
            found.append(_("Outside the regions you work in: %(names)s", names=", ".join(foreign)))
        live = drafts.digest(drafts.live_form(session, editable.kind, form["id"]))
        if live != (base or None):
            found.append(
                _(
                    "This record changed while you were editing it. "
                    "Open it again and redo your change."
                )
                if base
                else _("This id is already in use.")
            )
    return found


def _save(editable: Editable, form: Canonical) -> BaseResponse:
    session = request_session()
    user = account()
    now = _now()
    live = drafts.live_form(session, editable.kind, form["id"])
    if live is not None and drafts.digest(live) == drafts.digest(form):
        flash(_("Nothing changed."))
        return redirect(url_for(f"portal.{editable.slug}_record", record_id=form["id"]))
    version = drafts.propose(session, editable.kind, form, author=user.id, now=now)
    live_now = version.state is VersionState.APPROVED
    action = AuditAction.CONTENT_CHANGED if live_now else AuditAction.CONTENT_DRAFTED
    audit.record(session, action, now, user.id, history.detail(version))
    session.commit()
    flash(
        _("Saved: the change is live.")
        if live_now
        else _("Saved as a draft: it goes live when a reviewer approves it.")
    )
    return redirect(url_for(f"portal.{editable.slug}_record", record_id=form["id"]))


def _edit_page(
    editable: Editable,
    values: dict[str, Any],
    problems: list[str],
    preview: Canonical | None,
    **context: Any,
) -> Page:
    session = request_session()
    page = render_template(
        "portal/record.html",
        user=account(),
        editable=editable,
        values=values,
        problems=problems,
        preview=parts(editable.kind.name, preview, _now()) if preview else None,
        regions=scoping.regions_in(session, scope()),
        organizations=history.organizations(session),
        **context,
    )
    # Problems are shown on the form itself, with what was typed kept (a 200, as a form is).
    return page


def _submitted(
    editable: Editable, kept: Canonical
) -> tuple[dict[str, Any], Canonical | None, list[str]]:
    values = submitted(editable.fields, request.form)
    form, problems = checked(editable, values, kept)
    reasons = [said(problem) for problem in problems]
    reasons += _problems_of(editable, form, request.form.get("base"))
    return values, (form if not reasons else None), reasons


def _list_view(editable: Editable) -> Callable[[], Page]:
    def view() -> Page:
        session = request_session()
        region, status = request.args.get("region") or None, request.args.get("status") or None
        rows = scoping.listed(
            session, scope(), editable, region=region, status=status, today=_now().date()
        )
        return render_template(
            "portal/records.html",
            user=account(),
            editable=editable,
            rows=rows,
            waiting=history.new_records(session, scope(), editable),
            regions=scoping.regions_in(session, scope()),
            statuses=scoping.statuses(editable),
            region=region,
            status=status,
            today=_now().date(),
        )

    return view


def _new_view(editable: Editable) -> Callable[[], Page]:
    def view() -> Page:
        blank = editable.blank(_now().date(), _now())
        if request.method == "GET":
            return _edit_page(editable, shown(editable.fields, blank), [], None, new=True)
        values, form, problems = _submitted(editable, blank)
        if form is None or request.form.get("action") == "preview":
            return _edit_page(editable, values, problems, form, new=True)
        return _save(editable, form)

    return view


def _record_view(editable: Editable) -> Callable[[str], Page]:
    def view(record_id: str) -> Page:
        row, versions = _record(editable, record_id)
        session = request_session()
        live = editable.kind.canonical(row) if row is not None else None
        context = history.context(session, editable, record_id, live, versions)
        if request.method == "GET":
            values = shown(editable.fields, live or drafts.loaded(versions[0].form))
            return _edit_page(editable, values, [], live, **context)
        values, form, problems = _submitted(editable, live or drafts.loaded(versions[0].form))
        if form is not None and form["id"] != record_id:
            problems, form = [_("The id of a record never changes.")], None
        if form is None or request.form.get("action") == "preview":
            return _edit_page(editable, values, problems, form, **context)
        return _save(editable, form)

    return view


def _rollback_view(editable: Editable) -> Callable[[str, int], BaseResponse]:
    def view(record_id: str, version_id: int) -> BaseResponse:
        _record(editable, record_id)
        session = request_session()
        older = session.get(RecordVersion, version_id)
        if older is None or older.record_id != record_id or older.kind != editable.kind.name:
            abort(404)
        user, now = account(), _now()
        version = drafts.roll_back(session, older, user.id, now)
        audit.record(
            session, AuditAction.CONTENT_ROLLED_BACK, now, user.id, history.detail(version)
        )
        session.commit()
        flash(
            _("Rolled back: the change is live.")
            if version.state is VersionState.APPROVED
            else _("The older version is now a draft: it goes live when a reviewer approves it.")
        )
        return redirect(url_for(f"portal.{editable.slug}_record", record_id=record_id))

    return view


def _verify_view(editable: Editable) -> Callable[[str], BaseResponse]:
    def view(record_id: str) -> BaseResponse:
        row, _versions = _record(editable, record_id)
        if row is None:
            abort(404)
        session = request_session()
        user, now = account(), _now()
        form = editable.kind.canonical(row)
        who = user.organisation.name if user.organisation is not None else user.username
        form |= {"verified_on": now.date(), "verified_by": who}
        version = drafts.propose(session, editable.kind, form, author=user.id, now=now)
        audit.record(session, AuditAction.RESOURCE_VERIFIED, now, user.id, history.detail(version))
        session.commit()
        flash(
            _("Marked verified today.")
            if version.state is VersionState.APPROVED
            else _("Marked verified today: it shows when a reviewer approves it.")
        )
        return redirect(url_for(f"portal.{editable.slug}_record", record_id=record_id))

    return view


def _register(editable: Editable) -> None:
    guard = rule(Permission.EDIT_CONTENT)
    slug = editable.slug
    blueprint.add_url_rule(f"/{slug}/", slug, guard(_list_view(editable)))
    blueprint.add_url_rule(
        f"/{slug}/new", f"{slug}_new", guard(_new_view(editable)), methods=["GET", "POST"]
    )
    blueprint.add_url_rule(
        f"/{slug}/<record_id>",
        f"{slug}_record",
        guard(_record_view(editable)),
        methods=["GET", "POST"],
    )
    blueprint.add_url_rule(
        f"/{slug}/<record_id>/rollback/<int:version_id>",
        f"{slug}_rollback",
        guard(_rollback_view(editable)),
        methods=["POST"],
    )
    if editable.kind is RESOURCE:
        blueprint.add_url_rule(
            f"/{slug}/<record_id>/verify",
            f"{slug}_verify",
            guard(_verify_view(editable)),
            methods=["POST"],
        )


for _editable in EDITABLES:
    _register(_editable)
