"""Translations that format as their source does, or are not used.

A translation is formatted with the values its source text names (`%(name)s`, `%s`, `{name}`).
One whose placeholders were mistyped raises (KeyError, ValueError, TypeError) where the text is
used, and a person would read "Sorry, something went wrong" instead of an answer. Compiling
refuses such a catalogue (`server.i18n.tools`); this module is the second line for a catalogue
that reached the server anyway: every translation is tried once, when its catalogue loads,
with stand-in values of the kinds its source's placeholders take, and one that fails is dropped,
so that message falls back to the source text. The log names the locale and the source text,
never a value a message is formatted with.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from gettext import NullTranslations
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T", bound=NullTranslations)

_PERCENT = re.compile(r"%(?:\((\w+)\))?([sd])")
_BRACES = re.compile(r"\{(\w*)\}")
#: How gettext joins a context to its message in a compiled catalogue.
_CONTEXT = "\x04"


class _Only(dict[str, Any]):
    """The stand-in values of a source's named placeholders; any other name is a KeyError."""


def _stand_ins(source: str) -> Mapping[str, Any] | tuple[Any, ...]:
    named = {name: (0 if kind == "d" else "x") for name, kind in _PERCENT.findall(source) if name}
    if named:
        return _Only(named)
    return tuple(0 if kind == "d" else "x" for _name, kind in _PERCENT.findall(source))


def format_problem(source: str, translation: str) -> str | None:
    """Why `translation` would not format with the values `source` is formatted with, or None."""
    try:
        if _PERCENT.search(source):
            translation % _stand_ins(source)  # only whether it raises matters
        elif _BRACES.search(source):
            names = {name for name in _BRACES.findall(source) if name}
            translation.format(*(["x"] * len(_BRACES.findall(source))), **dict.fromkeys(names, "x"))
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _source_of(key: str | tuple[str, int]) -> str:
    text = key if isinstance(key, str) else key[0]
    return text.split(_CONTEXT, 1)[-1]


def drop_unformattable(translations: T, locale: str) -> T:
    """Remove, in place, every translation that would not format as its source does."""
    catalog: dict[Any, str] | None = getattr(translations, "_catalog", None)
    if not catalog:
        return translations
    for key, string in list(catalog.items()):
        source = _source_of(key)
        if not source:  # the catalogue's header
            continue
        problem = format_problem(source, string)
        if problem is not None:
            del catalog[key]
            log.warning(
                "catalogue %s: the translation of %r is not used (%s); the source text is",
                locale,
                source,
                problem,
            )
    return translations
