"""GET /portal/notes and POST /portal/notes/export: the NGO's sealed notes, still sealed.

The server cannot read a note: the list shows only when each arrived and its id, and the
download is the file `refuge notes export --recipient` writes, for `refuge notes open` offline.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Response, redirect, render_template, url_for
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from server import audit, people, vault
from server.db import request_session
from server.models.checkins import PartnerNoteKey, SealedNote
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
    fingerprint = vault.key_fingerprint(key) if key else None
    database = request_session()
    # Every key the organisation has had: notes sealed to an earlier one are still its own.
    earlier = set(
        database.scalars(
            select(PartnerNoteKey.fingerprint).where(PartnerNoteKey.partner_id == organisation.id)
        )
    )
    earlier.discard(fingerprint)
    found = (
        database.execute(
            select(SealedNote.id, SealedNote.created_on, SealedNote.recipient)
            .where(SealedNote.recipient.in_([*earlier, *([fingerprint] if fingerprint else [])]))
            .order_by(SealedNote.created_on, SealedNote.id)
        ).all()
        if fingerprint or earlier
        else []
    )
    count_text = ngettext("%(num)d sealed note", "%(num)d sealed notes", len(found))
    return render_template(
        "portal/notes.html",
        user=user,
        fingerprint=fingerprint,
        notes=found,
        count_text=count_text,
        earlier=any(note.recipient != fingerprint for note in found),
    )


@blueprint.post("/notes/export")
@rule(Permission.READ_NOTES)
def export() -> BaseResponse:
    """Download the organisation's sealed notes as JSON lines; the audit log counts them."""
    user = account()
    key = user.organisation.note_key if user.organisation is not None else None
    if key is None:
        return redirect(url_for("portal.notes"))
    database = request_session()
    lines = list(people.export_note_lines(database, vault.key_fingerprint(key)))
    audit.record(
        database, AuditAction.NOTES_EXPORTED, datetime.now(UTC), user.id, {"count": len(lines)}
    )
    database.commit()
    response = Response("".join(f"{line}\n" for line in lines), mimetype="application/x-ndjson")
    filename = f"refuge-notes-{date.today().isoformat()}.ndjson"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
