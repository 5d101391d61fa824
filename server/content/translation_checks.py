"""The checks a content translation passes before it is stored, from a .po file or the portal.

One rule for both doors: a translation keeps the source's placeholders and markup, adds no HTML,
script or foreign link, and a text that goes out by SMS fits one message.
"""

from __future__ import annotations

import enum
import html
import re
from dataclasses import dataclass
from typing import Protocol

from babel.messages.catalog import Message

from server.content.markup import ALLOWED_SCHEMES
from server.placeholders import placeholder_problems
from server.segments import measure

SMS_NOTE = "SMS: must fit one message: at most 160 GSM-7 characters or 70 in other scripts"


class Field(Protocol):
    """What the checks read of a content field."""

    @property
    def source(self) -> str: ...

    @property
    def source_locale(self) -> str: ...

    @property
    def sms(self) -> bool: ...


# --- Checks -----------------------------------------------------------------------------------

_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>?")
_AUTOLINK = re.compile(r"<(?:(?:https|tel|mailto):[^<>\s]*|[^\s<>@:/]+@[^\s<>@]+)>")
_DESTINATION = re.compile(
    r"\]\(\s*(<[^>\n]*>|[^\s)]*)|^[ ]{0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)", re.MULTILINE
)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_SCRIPT_SCHEME = re.compile(r"(?:java|vb)script:")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def _normal(text: str) -> str:
    return _INVISIBLE.sub("", html.unescape(text)).lower()


def _tags(text: str) -> set[str]:
    return {m.group(0) for m in _TAG.finditer(text) if not _AUTOLINK.match(text, m.start())}


def _destinations(text: str) -> set[str]:
    return {
        _normal((m.group(1) or m.group(2) or "").strip("<>")) for m in _DESTINATION.finditer(text)
    }


def unsafe_markup(source: str, translation: str) -> str | None:
    """Why a translation's markup is refused: HTML, a script, or a link the source lacks."""
    tags = sorted(_tags(translation) - _tags(source))
    if tags:
        return f"HTML is not allowed in content: {tags[0][:40]}"
    if _SCRIPT_SCHEME.search(_normal(translation)) and not _SCRIPT_SCHEME.search(_normal(source)):
        return "a script address (javascript:) is not allowed in content"
    known = _destinations(source)
    for target in sorted(_destinations(translation) - known):
        scheme = _SCHEME.match(target)
        if scheme is None or scheme.group(1) not in ALLOWED_SCHEMES:
            return f"a link may go only to https:, tel: or mailto: addresses, not {target[:40]}"
        if scheme.group(1) != "https":
            return f"a {scheme.group(1)}: link must be the one the source has, not {target[:40]}"
    return None


class Problem(enum.Enum):
    """Why a translation of a content field is refused (the same for a file and the portal)."""

    UNKNOWN_FIELD = "unknown_field"
    SOURCE_LOCALE = "source_locale"
    SOURCE_CHANGED = "source_changed"
    MARKUP = "markup"
    PLACEHOLDERS = "placeholders"
    SMS_LENGTH = "sms_length"


@dataclass(frozen=True)
class Check:
    """A refused translation: what kind of problem, and the reason in words."""

    problem: Problem
    reason: str


def check_translation(
    item: Field | None,
    text: str,
    locale: str,
    *,
    source: str | None = None,
    context: str | None = None,
) -> Check | None:
    """Why `text` cannot be the `locale` translation of `item`, or None when it can.

    `source` is the source text the translator saw (a file's msgid): it must still be current.
    """
    if item is None:
        return Check(Problem.UNKNOWN_FIELD, f"unknown message context {context!r}: no such field")
    if item.source_locale == locale:
        return Check(
            Problem.SOURCE_LOCALE,
            f"this record is written in {locale}; there is nothing to translate",
        )
    if source is not None and source != item.source:
        return Check(
            Problem.SOURCE_CHANGED,
            "source changed, translation not applied (export the file again)",
        )
    unsafe = unsafe_markup(item.source, text)
    if unsafe:
        return Check(Problem.MARKUP, unsafe)
    problems = placeholder_problems(Message(item.source, text))
    if problems:
        found = problems[0].split(": ", 1)[-1]
        return Check(
            Problem.PLACEHOLDERS, f"placeholders or markup differ from the source: {found}"
        )
    if item.sms:
        cost = measure(text)
        if cost.segments > 1:
            return Check(
                Problem.SMS_LENGTH, f"{SMS_NOTE} (this one is {cost.units} {cost.encoding} units)"
            )
    return None
