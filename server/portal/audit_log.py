"""GET /portal/audit: the audit chain, newest first, naming accounts by username.

Names are looked up as the page is drawn (rows keep ids, so the chain is as written). An admin
with a scope sees the events done by or to the accounts in it; one without sees every event,
the failed logins of unknown names and the operator's commands included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.db import request_session
from server.models.staff import AuditAction, AuditEvent, Permission, User
from server.portal.access import Scope, account, rule, scope
from server.portal.account_scope import covers_account
from server.portal.session import blueprint

#: What each action reads as; one without a label shows its code (the export's `action`).
ACTION_NAMES: dict[str, object] = {
    AuditAction.LOGIN.value: _l("Logged in"),
    AuditAction.LOGIN_FAILED.value: _l("Failed login"),
    AuditAction.LOGOUT.value: _l("Logged out"),
    AuditAction.NOTES_EXPORTED.value: _l("Downloaded sealed notes"),
    AuditAction.USER_CREATED.value: _l("Made an account"),
    AuditAction.USER_DISABLED.value: _l("Disabled an account"),
    AuditAction.USER_ENABLED.value: _l("Enabled an account"),
    AuditAction.PASSWORD_RESET.value: _l("Set a new password"),
    AuditAction.TOTP_RESET.value: _l("Made a new authenticator key"),
    AuditAction.USER_UNLOCKED.value: _l("Unlocked an account"),
    AuditAction.INVITE_SENT.value: _l("Sent an invitation"),
    AuditAction.INVITE_ACCEPTED.value: _l("Set up an account from an invitation"),
}

#: Events shown on one page; older ones are a link away.
PAGE = 50
#: Events read per query while looking for a page of those in scope.
BATCH = 500


@dataclass(frozen=True)
class Line:
    """One event as the page shows it."""

    seq: int
    at: datetime
    action: str
    actor: str | None
    about: str | None
    detail: dict[str, object]


def _visible(session: Session, admin_scope: Scope) -> set[str] | None:
    """The ids (hex) of the accounts whose events this admin sees; None: every event."""
    if admin_scope.everywhere and admin_scope.all_locales:
        return None
    return {
        user.id.hex
        for user in session.scalars(select(User))
        if covers_account(session, admin_scope, user)
    }


def _lines(session: Session, before: int | None) -> list[Line]:
    visible = _visible(session, scope())
    names = audit.usernames(session)
    lines: list[Line] = []
    while len(lines) < PAGE:
        query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(BATCH)
        if before is not None:
            query = query.where(AuditEvent.seq < before)
        events = list(session.scalars(query))
        for event in events:
            actor, about = event.actor_id.hex if event.actor_id else None, audit.target(event)
            if visible is None or actor in visible or about in visible:
                lines.append(_line(event, names, actor, about))
        if len(events) < BATCH:
            break
        before = events[-1].seq
    return lines[:PAGE]


def _line(event: AuditEvent, names: dict[str, str], actor: str | None, about: str | None) -> Line:
    detail = {key: value for key, value in event.detail.items() if key != "user"}
    return Line(
        event.seq,
        event.at,
        event.action,
        names.get(actor, actor) if actor else None,
        names.get(about, about) if about else None,
        detail,
    )


@blueprint.get("/audit")
@rule(Permission.MANAGE_ACCOUNTS)
def audit_page() -> str:
    """A page of events, newest first; `?before=<seq>` pages back."""
    raw = request.args.get("before", "")
    before = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
    lines = _lines(request_session(), before)
    older = lines[-1].seq if len(lines) == PAGE and lines[-1].seq > 1 else None
    return render_template(
        "portal/audit.html", user=account(), lines=lines, older=older, names=ACTION_NAMES
    )
