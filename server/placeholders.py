"""Placeholders and markup that must survive translation unchanged: one rule for the UI
catalogues (`make check`) and for content translations imported by `refuge i18n import-content`.
"""

from __future__ import annotations

import re

from babel.messages.catalog import Message

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|<[^>]+>|&\w+;")


def placeholder_problems(message: Message) -> list[str]:
    """Placeholders or markup that differ between a message and its translation."""
    ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    wanted = sorted(PLACEHOLDER.findall(ids[-1]))
    problems = []
    for index, string in enumerate(strings):
        if string and sorted(PLACEHOLDER.findall(string)) != wanted:
            # Plural forms may drop the count in a form that names one ("one", "two").
            found = sorted(PLACEHOLDER.findall(string))
            if len(strings) > 1 and set(found) <= set(wanted):
                continue
            problems.append(f"form {index}: {found} instead of {wanted}")
    return problems
