"""Content files on disk: read with their size and encoding checked, written back as YAML.

A record's file is YAML, or Markdown with a YAML front matter block for a record whose main
text is a body (a bulletin). Both are written from a record's canonical form, dropping empty
optional fields, so that a file exported and loaded again changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from server.content.records import Canonical
from server.content.schema import ContentError, Problem

MAX_FILE_BYTES = 512 * 1024
_WIDTH = 100


def read_text(path: Path) -> str:
    """The text of one content file, or ContentError when it is too large or not UTF-8."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ContentError([Problem(path, 1, f"is larger than {MAX_FILE_BYTES // 1024} KiB")])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentError([Problem(path, 1, "is not UTF-8 text")]) from None


def write_yaml(path: Path, data: Canonical) -> None:
    """Write a record as a YAML file."""
    _write(path, _dump(data))


def write_markdown(path: Path, data: Canonical) -> None:
    """Write a record as Markdown: its fields in front matter, then its `body`."""
    fields = dict(data)
    body = fields.pop("body")
    _write(path, f"---\n{_dump(fields)}---\n{body}")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _dump(data: Canonical) -> str:
    return yaml.safe_dump(_for_file(data), allow_unicode=True, sort_keys=False, width=_WIDTH)


def _for_file(value: Any) -> Any:
    """Drop empty optional fields and write timestamps in ISO 8601 with Z."""
    if isinstance(value, dict):
        return {k: _for_file(v) for k, v in value.items() if v is not None and v not in ([], {})}
    if isinstance(value, list):
        return [_for_file(v) for v in value]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
