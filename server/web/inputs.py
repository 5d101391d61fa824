"""Checks on what arrives in URLs and forms before any of it reaches the database.

Numbers are read here and only here: ASCII digits alone, within bounds. `str.isdigit` says yes
to `①` and to digits of every script, and `int` then fails on the first and quietly reads the
second; both must be a clear 400, never a 500 and never a page the person did not ask for.
"""

from __future__ import annotations

import re

from flask import request

#: A whole number as every numeric parameter takes it: ASCII digits only, at most nine.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


class BadNumber(ValueError):
    """A numeric parameter that is not a whole number within its bounds."""

    def __init__(self, name: str, least: int, most: int) -> None:
        super().__init__(f"{name} must be a whole number from {least} to {most}.")
        self.name = name


def has_nul() -> bool:
    """True when a query or path value holds a NUL character, which PostgreSQL text refuses."""
    values = [*request.args.values(), *(str(v) for v in (request.view_args or {}).values())]
    return any("\x00" in value for value in values)


def whole_number(raw: str | None, name: str, default: int, most: int, least: int = 1) -> int:
    """`raw` as a whole number from `least` to `most` (`default` when absent), or BadNumber."""
    if raw is None:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or not least <= int(raw) <= most:
        raise BadNumber(name, least, most)
    return int(raw)


def query_number(name: str, default: int, most: int, least: int = 1) -> int:
    """A numeric query parameter of this request (see `whole_number`)."""
    return whole_number(request.args.get(name), name, default, most, least)
