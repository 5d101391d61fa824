"""Refuge's models, one module per domain; importing this registers every table."""

from server.models import (
    bulletins,
    checkins,
    checklists,
    content,
    drafts,
    messaging,
    people,
    search,
    staff,
    translations,
    ui_translations,
    versions,
)

__all__ = [
    "bulletins",
    "checkins",
    "checklists",
    "content",
    "drafts",
    "messaging",
    "people",
    "search",
    "staff",
    "translations",
    "ui_translations",
    "versions",
]
