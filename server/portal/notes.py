"""The NGO's sealed notes in the portal, still sealed: listed by key, downloaded, handled.

The server cannot read a note: the list shows when each arrived, its id, the key it is sealed
to (the current one or an earlier one: a rotation hides none), when the NGO first downloaded it,
whether a caseworker has handled it, and until when it is kept. Each key's notes download as
the file `refuge notes export --recipient` writes, for `refuge notes open` offline with that
key; marking a note handled starts its retention clock (`server.checkins.notes`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from server import audit, vault
from server.checkins import notes as sealed_notes
from server.config import app_settings
from server.db import request_session
from server.models.staff import AuditAction, Permission
from server.portal.access import account, rule
from server.portal.session import blueprint


@blueprint.get("/notes")
@rule(Permission.READ_NOTES)
def notes() -> BaseResponse | str:
    """The organisation's sealed notes: how many, when each arrived, and which key opens it."""
    user = account()
    organisation = user.organisation
    if organisation is None:  # an admin of no NGO: there are no notes to show
        return redirect(url_for("portal.home"))
    key = organisation.note_key
    days = app_settings().retention.note_days
    groups = sealed_notes.by_key(request_session(), organisation, days)
    total = sum(len(group.notes) for group in groups)
    return render_template(
        "portal/notes.html",
        user=user,
        fingerprint=vault.key_fingerprint(key) if key else None,
        groups=groups,
        count_text=ngettext("%(num)d sealed note", "%(num)d sealed notes", total),
        retention_days=days,
    )


@blueprint.post("/notes/export")
@rule(Permission.READ_NOTES)
def export() -> BaseResponse:
    """Download one key's sealed notes (the current key's unless the form names an earlier
    one) as JSON lines; they are marked downloaded and the audit log counts them."""
    user = account()
    organisation = user.organisation
    if organisation is None:  # an admin of no NGO: there are no notes to download
        return redirect(url_for("portal.home"))
    fingerprint = request.form.get("key") or (
        vault.key_fingerprint(organisation.note_key) if organisation.note_key else None
    )
    if fingerprint is None:
        return redirect(url_for("portal.notes"))
    database = request_session()
    today = datetime.now(UTC).date()
    lines = sealed_notes.export_lines(database, organisation, fingerprint, today)
    if lines is None:
        abort(404)  # never one of this organisation's keys
    audit.record(
        database, AuditAction.NOTES_EXPORTED, datetime.now(UTC), user.id, {"count": len(lines)}
    )
    database.commit()
    response = Response("".join(f"{line}\n" for line in lines), mimetype="application/x-ndjson")
    filename = f"refuge-notes-{fingerprint[:8]}-{today.isoformat()}.ndjson"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blueprint.post("/notes/<note_id>/handled")
@rule(Permission.READ_NOTES)
def handled(note_id: str) -> BaseResponse:
    """Mark one of the organisation's notes handled (once; the audit log says who)."""
    user = account()
    database = request_session()
    found = sealed_notes.parse_id(note_id)
    organisation = user.organisation
    note = sealed_notes.note_of(database, organisation, found) if found and organisation else None
    if note is None:
        abort(404)  # another organisation's note, or none: the same answer
    now = datetime.now(UTC)
    if sealed_notes.mark_handled(note, now.date()):
        audit.record(database, AuditAction.NOTE_HANDLED, now, user.id, {"note": note.id.hex})
        database.commit()
    return redirect(url_for("portal.notes", _anchor=f"key-{note.recipient}"))
