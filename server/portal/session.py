"""The portal's blueprint and who is signed in: a short, signed session tied to the account.

The session cookie holds the account id, its session epoch (bumped at every login and logout,
so a copied cookie dies with the session it came from) and two times: when it was last used
(idle limit, a setting) and when it began (absolute limit). Nothing else, never a secret.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from flask import Blueprint, g, session

from server.config import app_settings
from server.db import request_session
from server.models.staff import User

blueprint = Blueprint("portal", __name__, url_prefix="/portal")

USER_KEY = "portal_user"
EPOCH_KEY = "portal_epoch"
SEEN_KEY = "portal_seen"
SINCE_KEY = "portal_since"
#: However active, a session ends after this long and the caseworker logs in again.
ABSOLUTE_LIFETIME = timedelta(hours=8)


def begin(user: User) -> None:
    """Start a fresh session for an account: whatever the cookie held before is dropped."""
    session.clear()
    session.permanent = True
    now = int(time.time())
    session.update(
        {USER_KEY: user.id.hex, EPOCH_KEY: user.session_epoch, SEEN_KEY: now, SINCE_KEY: now}
    )


def end() -> None:
    """Forget the session in this browser."""
    session.clear()


def signed_in() -> User | None:
    """The account of this request's session, or None when absent, expired or ended elsewhere."""
    if "portal_account" in g:
        found: User | None = g.portal_account
        return found
    g.portal_account = user = _from_cookie()
    return user


def _from_cookie() -> User | None:
    raw = session.get(USER_KEY)
    if not isinstance(raw, str):
        return None
    now = time.time()
    idle = app_settings().portal_session_minutes * 60
    seen, since = session.get(SEEN_KEY, 0), session.get(SINCE_KEY, 0)
    if not isinstance(seen, int) or not isinstance(since, int):
        end()
        return None
    if now - seen > idle or now - since > ABSOLUTE_LIFETIME.total_seconds():
        end()
        return None
    try:
        user = request_session().get(User, uuid.UUID(hex=raw))
    except ValueError:
        user = None
    if user is None or user.disabled or user.session_epoch != session.get(EPOCH_KEY):
        end()
        return None
    session[SEEN_KEY] = int(now)
    return user
