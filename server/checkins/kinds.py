"""What check-in operations answer, and what a PIN looks like: plain values, no database.

The conversation engine reads these without loading the models (`server.conversation.checkin_port`);
`plans` and `contacts` return them.
"""

from __future__ import annotations

import enum

PIN_DIGITS = range(4, 9)
MAX_NAME = 40


class Status(enum.Enum):
    """Where a plan is: being set up, running, paused, or stopped by the person."""

    SETUP = "setup"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class Checked(enum.Enum):
    """What a PIN did. DURESS never leaves this module's callers' sight as anything but OK."""

    OK = "ok"
    WRONG = "wrong"
    LIMITED = "limited"
    NO_PLAN = "no_plan"


class Added(enum.Enum):
    """What became of an ADD."""

    ADDED = "added"
    FULL = "full"
    ALREADY = "already"
    REFUSED = "refused"  # the number declined Refuge before, or was asked by someone already
    CAPPED = "capped"  # too many opt-ins today
    ABROAD = "abroad"  # in a country this deployment does not text (REFUGE_SMS_COUNTRIES)
    NOT_MOBILE = "not_mobile"  # a landline or a service number: it cannot get texts


def valid_pin(text: str) -> str | None:
    """The PIN in a reply (digits of any script already folded to ASCII), or None."""
    cleaned = text.strip()
    ok = cleaned.isascii() and cleaned.isdigit() and len(cleaned) in PIN_DIGITS
    return cleaned if ok else None
