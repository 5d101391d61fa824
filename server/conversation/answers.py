"""Content answers kept per process for one content version, shared by every turn."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

#: Answers kept per process at most; past it the store starts again (it refills in a few turns).
SHARED_ANSWERS = 4096

T = TypeVar("T")


class SharedAnswers:
    """Content answers shared by every turn in this process, for one content version.

    Keyed by the content version token (`server.models.versions`), which every write of
    content replaces in its own transaction: the first turn that reads a new token starts an
    empty store. Only answers that depend on content, the settings and the day are kept;
    bulletins and context notes, which also depend on the moment, are kept as everything not
    yet expired and filtered at each reading (`Library._kept`); what a person wrote is never
    kept. Values are immutable (tuples of frozen dataclasses).
    """

    def __init__(self) -> None:
        self.version: str | None = None
        self.answers: dict[Hashable, Any] = {}

    def get(self, version: str, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer for `key` under `version`, computed and kept when not known yet."""
        if version != self.version:
            self.version, self.answers = version, {}
        try:
            found: T = self.answers[key]
        except KeyError:
            found = compute()
            if version == self.version:  # not replaced meanwhile by a newer version
                if len(self.answers) >= SHARED_ANSWERS:
                    self.answers = {}
                self.answers[key] = found
        return found


#: This process's shared answers (a gunicorn worker is one process).
SHARED = SharedAnswers()
