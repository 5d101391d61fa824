"""What check-in operations answer, and what a PIN looks like: plain values, no database.

The conversation engine reads these without loading the models (`server.conversation.checkin_port`);
`plans` and `contacts` return them.
"""

from __future__ import annotations

import enum

#: The lengths of a PIN a plan may hold (plans set up before 6 digits were asked keep theirs).
PIN_DIGITS = range(4, 9)
#: The lengths a new PIN may have: 4 digits fall to guessing within weeks, 6 within decades.
NEW_PIN_DIGITS = range(6, 9)
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
    REFUSED = "refused"  # the person's own number (a number's past is never told: see contacts)
    CAPPED = "capped"  # too many opt-ins today
    ABROAD = "abroad"  # in a country this deployment does not text (REFUGE_SMS_COUNTRIES)
    NOT_MOBILE = "not_mobile"  # a landline or a service number: it cannot get texts


def valid_pin(text: str, lengths: range = PIN_DIGITS) -> str | None:
    """The PIN in a reply (digits of any script already folded to ASCII), or None."""
    cleaned = text.strip()
    ok = cleaned.isascii() and cleaned.isdigit() and len(cleaned) in lengths
    return cleaned if ok else None


def new_pin(text: str) -> str | None:
    """A PIN chosen at set-up (of `NEW_PIN_DIGITS`), or None."""
    return valid_pin(text, NEW_PIN_DIGITS)
