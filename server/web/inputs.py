"""Checks on what arrives in URLs before any of it reaches the database."""

from __future__ import annotations

from flask import request


def has_nul() -> bool:
    """True when a query or path value holds a NUL character, which PostgreSQL text refuses."""
    values = [*request.args.values(), *(str(v) for v in (request.view_args or {}).values())]
    return any("\x00" in value for value in values)
