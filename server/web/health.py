"""GET /healthz: 200 only when the database answers.

`GET /healthz?deep=1` also fails (503) while an alert or all-clear has not left in time
(`server.delivery.missed`), with the counts by kind and reason, so that a monitor catches it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from server.config import app_settings
from server.db import get_database
from server.delivery import missed
from server.web.inputs import BadNumber, whole_number

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)


def _deep() -> bool:
    """`deep` is a flag: absent, empty or 0 for the plain check, 1 for the deep one."""
    raw = request.args.get("deep")
    return raw != "" and whole_number(raw, "deep", 0, 1, least=0) == 1


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether this process can serve; with `deep`, whether every alert left in time."""
    try:
        deep = _deep()
    except BadNumber as exc:
        return jsonify(error={"code": "bad_parameter", "message": str(exc)}), 400
    database = get_database()
    try:
        database.ping()
        if not deep:
            return jsonify(status="ok"), 200
        settings = app_settings()
        with database.session() as session:
            counts = missed.missed(session, settings, datetime.now(UTC))
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return jsonify(status="unavailable", reason="database unreachable"), 503
    listed = [
        {"kind": kind.value, "reason": reason, "count": count}
        for kind, reason, count in missed.listed(counts)
    ]
    body = jsonify(
        status="failing" if listed else "ok",
        missed=listed,
        late_minutes=settings.delivery.alert_late_minutes,
        window_hours=int(missed.WINDOW.total_seconds() // 3600),
    )
    return body, 503 if listed else 200
