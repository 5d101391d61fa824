"""Sentences with counts and dates shared by pages and messages, each in one place."""

from __future__ import annotations

from flask_babel import ngettext


def resources_found(count: int) -> str:
    """'12 resources found', with the plural form the reader's language needs."""
    return str(ngettext("%(num)d resource found", "%(num)d resources found", count))


def bulletins_current(count: int) -> str:
    """'3 current bulletins'."""
    return str(ngettext("%(num)d current bulletin", "%(num)d current bulletins", count))


def steps_left(count: int) -> str:
    """'2 steps left' in a checklist."""
    return str(ngettext("%(num)d step left", "%(num)d steps left", count))


def days_since_verified(count: int) -> str:
    """'verified 5 days ago'."""
    return str(ngettext("verified %(num)d day ago", "verified %(num)d days ago", count))
