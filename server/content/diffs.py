"""What a version of a content record changed: the fields whose values differ, as text.

History and the review queue show these: a version against the one live before it, a draft
against the live record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from server.content.drafts import history, kind_named, stored
from server.models.drafts import RecordVersion, VersionState


@dataclass(frozen=True)
class Change:
    """One field that differs between two forms, each side as text."""

    field: str
    before: str | None
    after: str | None


def _shown(value: Any) -> str | None:
    if value is None or value == [] or value == {}:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """The fields whose value differs, in the order of the newer form."""
    old = stored(before or {})
    new = stored(after)
    names = list(new) + [name for name in old if name not in new]
    return [
        Change(name, _shown(old.get(name)), _shown(new.get(name)))
        for name in names
        if _shown(old.get(name)) != _shown(new.get(name))
    ]


def previous_form(
    session: Session, version: RecordVersion, versions: Iterable[RecordVersion] | None = None
) -> dict[str, Any] | None:
    """The form live just before `version` was decided: the approved version before it."""
    if versions is None:
        versions = history(session, kind_named(version.kind), version.record_id)
    earlier = versions
    for other in earlier:
        if other.id < version.id and other.state is VersionState.APPROVED:
            return other.form
    return None
