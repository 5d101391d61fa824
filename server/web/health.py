"""GET /healthz: 200 only when the database answers."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from server.db import get_database

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether this process can serve: today, whether the database answers."""
    try:
        get_database().ping()
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return jsonify(status="unavailable", reason="database unreachable"), 503
    return jsonify(status="ok"), 200
