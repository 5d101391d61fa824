"""Reading content files: YAML that remembers line numbers, and field checks that name them.

Every problem is reported as ``path:line: reason``; the loader collects them all before it
writes anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel import Locale, UnknownLocaleError

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?")
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?\n)---\s*\n?(.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class ContentError(Exception):
    """Content files that cannot be loaded; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class LineDict(dict[str, Any]):
    """A YAML mapping that knows the line of itself and of each of its keys."""

    line: int = 1
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A YAML sequence that knows its line and the line of each item."""

    line: int = 1
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records 1-based line numbers on mappings and sequences."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[str(key)] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[str(key)] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(path: Path, text: str, first_line: int = 1) -> LineDict:
    """Parse one YAML document that must be a mapping, or raise ContentError naming the line."""
    try:
        document = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = first_line + (mark.line if mark else 0)
        raise ContentError([Problem(path, line, f"not valid YAML: {exc.problem}")]) from None
    except (yaml.YAMLError, ValueError) as exc:
        # ValueError: a number too long for Python to read (more than 4,300 digits).
        raise ContentError([Problem(path, first_line, f"not valid YAML: {exc}")]) from None
    if not isinstance(document, LineDict):
        raise ContentError([Problem(path, first_line, "must be a mapping of fields")])
    if first_line != 1:
        _shift(document, first_line - 1)
    return document


def _shift(value: Any, offset: int) -> None:
    if isinstance(value, LineDict):
        value.line += offset
        value.key_lines = {k: v + offset for k, v in value.key_lines.items()}
        for child in value.values():
            _shift(child, offset)
    elif isinstance(value, LineList):
        value.line += offset
        value.item_lines = [line + offset for line in value.item_lines]
        for child in value:
            _shift(child, offset)


def parse_front_matter(path: Path, text: str) -> tuple[LineDict, str]:
    """Split a Markdown file into its YAML front matter and its body."""
    match = FRONT_MATTER.match(text)
    if not match:
        raise ContentError([Problem(path, 1, "must start with a '---' front matter block")])
    return parse_yaml(path, match.group(1), first_line=2), match.group(2).strip() + "\n"


@dataclass
class Checker:
    """Reads fields of one record, collecting problems instead of stopping at the first."""

    path: Path
    problems: list[Problem] = field(default_factory=list)

    def fail(self, where: Mapping[str, Any] | None, key: str | None, reason: str) -> None:
        """Record a problem at the line of `key` in `where` (or of `where` itself)."""
        self.problems.append(Problem(self.path, line_of(where, key), reason))

    def get(
        self,
        record: Mapping[str, Any],
        key: str,
        parse: Callable[[Any], Any],
        *,
        required: bool = True,
        default: Any = None,
    ) -> Any:
        """The parsed value of a field, or `default` after recording why it is unusable."""
        if key not in record or record[key] is None:
            if required:
                self.fail(record, None, f"'{key}' is required")
            return default
        try:
            return parse(record[key])
        except (ValueError, TypeError) as exc:
            self.fail(record, key, f"'{key}': {exc}")
            return default

    def unknown(self, record: Mapping[str, Any], allowed: set[str]) -> None:
        """Report fields that this kind of record does not have (typos lose data silently)."""
        for key in record:
            if key not in allowed:
                self.fail(record, key, f"unknown field '{key}'")


def line_of(where: Mapping[str, Any] | None, key: str | None) -> int:
    """The line of a key in a parsed mapping, else of the mapping, else 1."""
    if isinstance(where, LineDict):
        if key is not None and key in where.key_lines:
            return where.key_lines[key]
        return where.line
    return 1


# --- Field parsers: each returns the clean value or raises ValueError with a plain reason. ---


def text(value: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be non-empty text")
    return value.strip()


def optional_text(value: Any) -> str | None:
    """A string, or None when empty."""
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value.strip() or None


def slug(value: Any) -> str:
    """A region slug."""
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise ValueError("must be lower-case letters, digits and '-', at most 64 characters")
    return value


def record_id(value: Any) -> str:
    """A stable record id."""
    if not isinstance(value, str) or not RECORD_ID.fullmatch(value):
        raise ValueError("must be letters, digits, '-' and '_', at most 64 characters")
    return value


def boolean(value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def integer(value: Any) -> int:
    """A whole number of at least 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a whole number")
    return value


def day(value: Any) -> date:
    """A date written as 2026-11-20."""
    if isinstance(value, datetime) or not isinstance(value, date):
        if isinstance(value, str):
            return date.fromisoformat(value)
        raise ValueError("must be a date like 2026-11-20")
    return value


def moment(value: Any) -> datetime:
    """A timestamp with a time zone, like 2026-11-20T08:00:00Z."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise ValueError("must be a timestamp like 2026-11-20T08:00:00Z")
    if value.tzinfo is None:
        raise ValueError("needs a time zone offset, like Z or +06:00")
    return value.astimezone(UTC)


def time_of_day(value: Any) -> time:
    """A time of day written as a quoted "08:00"."""
    if isinstance(value, int):
        raise ValueError('write times in quotes, like "08:00" (YAML reads 08:00 as a number)')
    if not isinstance(value, str) or not TIME_OF_DAY.fullmatch(value):
        raise ValueError('must be a time like "08:00"')
    return time.fromisoformat(value)


def locale(value: Any) -> str:
    """A BCP 47 language tag that CLDR knows."""
    if not isinstance(value, str):
        raise ValueError("must be a language tag like 'en' or 'ar'")
    try:
        Locale.parse(value.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        raise ValueError(f"'{value}' is not a known language tag") from None
    return value


def timezone(value: Any) -> str:
    """An IANA time zone name."""
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not an IANA time zone like Asia/Dhaka") from None
    return str(value)


def country(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError("must be a two-letter country code like BD")
    return value


def one_of(choices: set[str]) -> Callable[[Any], str]:
    """A parser accepting one of a fixed set of words."""

    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of: {', '.join(sorted(choices))}")
        return str(value)

    return parse


def list_of(parse: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    """A parser for a YAML list whose every item `parse` accepts."""

    def parse_list(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError("must be a list")
        return [parse(item) for item in value]

    return parse_list
