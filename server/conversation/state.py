"""Where a person is in the conversation, between two messages: a typed, versioned state.

The state is kept (sealed) on the person's row as JSON. `State.from_stored` reads every shape
ever written, so that a person in the middle of a question when a new version is deployed
keeps their place; whatever it cannot read is dropped, never an error. `State.stored` writes
the current shape. A state is frozen: handlers make a changed copy with `dataclasses.replace`.

Shapes written so far:

- unversioned (`{}` for somebody new): the conversation starts afresh.
- version 1 (`"v": 1`): the flow by name, the check-in set-up question apart in `ck`
  (`{"flow": "checkin", "ck": "pin"}`).
- version 2 (`"v": 2`): every question one flow name (`{"flow": "checkin-pin"}`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

VERSION = 2
E = TypeVar("E", bound=enum.Enum)


class Flow(enum.Enum):
    """The question last asked, which the next message may answer."""

    REGION = "region"
    CATEGORY = "category"
    SECURE = "secure"
    STEP = "step"
    LANG = "lang"
    CHECK = "check"
    DELETE = "delete"
    # The check-in set-up, one question per message.
    PIN = "checkin-pin"
    DURESS = "checkin-duress"
    SCHEDULE = "checkin-schedule"
    ZONE = "checkin-zone"
    GRACE = "checkin-grace"
    NAME = "checkin-name"
    CONTACTS = "checkin-contacts"
    LATER = "checkin-later"
    MESSAGE = "checkin-message"
    NGO = "checkin-ngo"

    @property
    def setting_up(self) -> bool:
        """True for a question of the check-in set-up."""
        return self.value.startswith("checkin-")


class Then(enum.Enum):
    """What a region, once chosen, is for."""

    FIND = "find"
    NEWS = "news"


@dataclass(frozen=True)
class State:
    """One person's place in the conversation."""

    version: int = VERSION
    flow: Flow | None = None
    then: Then = Then.FIND
    path: tuple[str, ...] = ()  # the regions chosen so far, one level at a time
    region: str | None = None  # the region chosen in this conversation
    category: str | None = None
    checklist: str = ""  # the guide being read, and the step shown
    step: int = 1
    progress: tuple[tuple[str, int], ...] = ()  # the step each unfinished guide was left at
    more: tuple[str, ...] = ()  # pages of the last long answer, for MORE
    decoy: tuple[str, ...] = ()  # a pretended set-up's answers (`checkin_decoy`)
    newcomer: bool = False  # after a pretended erasure: the next message is a newcomer's

    @classmethod
    def from_stored(cls, raw: object) -> State:
        """The state in any shape ever stored; a fresh one for anything unreadable."""
        if not isinstance(raw, Mapping):
            return cls()
        version = raw.get("v")
        if version == 1:
            raw = _from_version_1(raw)
        elif version != VERSION:
            return cls()  # unversioned states always started afresh
        return cls(
            flow=_member(Flow, raw.get("flow")),
            then=_member(Then, raw.get("then")) or Then.FIND,
            path=tuple(_strings(raw.get("path"))),
            region=_text(raw.get("region")),
            category=_text(raw.get("category")),
            checklist=_text(raw.get("checklist")) or "",
            step=_integer(raw.get("step")) or 1,
            progress=tuple(
                (guide, step)
                for guide, step in _mapping(raw.get("progress")).items()
                if isinstance(guide, str) and _integer(step) is not None
            ),
            more=tuple(_strings(raw.get("more"))),
            decoy=tuple(_strings(raw.get("decoy"))),
            newcomer=raw.get("newcomer") is True,
        )

    def stored(self) -> dict[str, Any]:
        """The state as JSON-ready data, in the current shape (defaults left out)."""
        stored: dict[str, Any] = {"v": self.version}
        if self.flow is not None:
            stored["flow"] = self.flow.value
        if self.then is not Then.FIND:
            stored["then"] = self.then.value
        if self.path:
            stored["path"] = list(self.path)
        if self.region is not None:
            stored["region"] = self.region
        if self.category is not None:
            stored["category"] = self.category
        if self.checklist:
            stored["checklist"] = self.checklist
        if self.step != 1:
            stored["step"] = self.step
        if self.progress:
            stored["progress"] = dict(self.progress)
        if self.more:
            stored["more"] = list(self.more)
        if self.decoy:
            stored["decoy"] = list(self.decoy)
        if self.newcomer:
            stored["newcomer"] = True
        return stored

    def progress_of(self, checklist: str) -> int | None:
        """The step a guide was left at, None when it is not under way."""
        return dict(self.progress).get(checklist)

    def with_progress(self, checklist: str, step: int | None) -> tuple[tuple[str, int], ...]:
        """The progress with one guide left at `step` (None: finished, forgotten)."""
        kept = {guide: at for guide, at in self.progress if guide != checklist}
        if step is not None:
            kept[checklist] = step
        return tuple(sorted(kept.items()))


def _from_version_1(raw: Mapping[Any, Any]) -> dict[Any, Any]:
    """Version 1 kept the check-in set-up's question apart: `flow` "checkin", `ck` "pin"."""
    migrated = dict(raw)
    if raw.get("flow") == "checkin":
        step = raw.get("ck")
        migrated["flow"] = f"checkin-{step}" if isinstance(step, str) else None
    migrated.pop("ck", None)
    return migrated


def _member(kind: type[E], value: object) -> E | None:
    try:
        return kind(value)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value else None


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _mapping(value: object) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}
