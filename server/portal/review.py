"""/portal/review: the drafts waiting for a second person, in the reviewer's regions.

Each draft shows what it changes against the live record and how it will read once live;
a reviewer approves it (it goes live through the same path as `refuge content load`) or
rejects it with a reason its author reads in the record's history. Nobody approves their own
draft, and a draft made from a version that is no longer live must be redone, not approved.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from server import audit
from server.content import drafts
from server.db import request_session
from server.models.drafts import RecordVersion
from server.models.staff import AuditAction, Permission
from server.portal import history, scoping
from server.portal.access import account, found, rule, scope
from server.portal.forms import editable_of
from server.portal.previews import parts
from server.portal.session import blueprint


def _now() -> datetime:
    return datetime.now(UTC)


@blueprint.get("/review")
@rule(Permission.REVIEW_CONTENT)
def review() -> str:
    """The queue: every draft in scope, oldest first, with its changes and its preview."""
    session = request_session()
    queue = []
    for version in scoping.waiting(session, scope()):
        kind = drafts.kind_named(version.kind)
        live = drafts.live_form(session, kind, version.record_id)
        (entry,) = history.entries(session, [version], live)
        stale = drafts.digest(live) != version.base_digest
        preview = parts(kind.name, drafts.loaded(version.form), _now())
        queue.append((entry, editable_of(kind.name, version.form), live is None, stale, preview))
    return render_template("portal/review.html", user=account(), queue=queue)


def _draft(version_id: int) -> RecordVersion:
    session = request_session()
    return found(
        session.get(RecordVersion, version_id),
        lambda covered, version: scoping.version_covered(session, covered, version),
    )


@blueprint.post("/review/<int:version_id>/approve")
@rule(Permission.REVIEW_CONTENT)
def approve(version_id: int) -> BaseResponse:
    """Make a draft live: refused for its author and when the live record moved on."""
    version = _draft(version_id)
    session, user, now = request_session(), account(), _now()
    kind = drafts.kind_named(version.kind)
    if scoping.outside(session, scope(), kind, version.form):
        # A bulletin for several regions goes live in all of them: each must be the reviewer's.
        flash(_("Only a reviewer of every region it names may approve it."), "error")
        return redirect(url_for("portal.review"))
    try:
        drafts.approve(session, version, user.id, now)
    except drafts.OwnDraft:
        flash(_("You wrote this draft: another reviewer must approve it."), "error")
    except drafts.LiveChanged:
        flash(
            _("The live record changed after this draft was made: ask for it to be redone."),
            "error",
        )
    except drafts.ReferenceGone:
        flash(
            _("A region or organisation this draft names is gone: ask for it to be redone."),
            "error",
        )
    except drafts.NotPending:
        flash(_("This draft was already decided."), "error")
    else:
        audit.record(session, AuditAction.CONTENT_APPROVED, now, user.id, history.detail(version))
        session.commit()
        flash(_("Approved: the change is live."))
    return redirect(url_for("portal.review"))


@blueprint.post("/review/<int:version_id>/reject")
@rule(Permission.REVIEW_CONTENT)
def reject(version_id: int) -> BaseResponse:
    """Turn a draft down with a reason; the live record stays as it is."""
    version = _draft(version_id)
    session, user, now = request_session(), account(), _now()
    try:
        drafts.reject(session, version, user.id, request.form.get("reason", ""), now)
    except drafts.ReasonMissing:
        flash(_("Say why, so the author can redo it."), "error")
    except drafts.NotPending:
        flash(_("This draft was already decided."), "error")
    else:
        audit.record(session, AuditAction.CONTENT_REJECTED, now, user.id, history.detail(version))
        session.commit()
        flash(_("Rejected: the author sees your reason in the record's history."))
    return redirect(url_for("portal.review"))
