"""The lock files pin every dependency inside pyproject.toml's ranges, with hashes, and the
offline advisory check fails on a known advisory or a snapshot older than the lock."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("advisories", ROOT / "deps" / "advisories.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _project() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        "requirements.lock": data["project"]["dependencies"] + data["build-system"]["requires"],
        "requirements-dev.lock": data["project"]["dependencies"]
        + data["project"]["optional-dependencies"]["dev"],
    }


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_dependency_is_pinned_within_its_range_with_hashes(lock: str) -> None:
    audit = _audit()
    pinned = audit.pins((ROOT / lock,))
    for line in _project()[lock]:
        wanted = Requirement(line)
        name = audit.normalise(wanted.name)
        assert name in pinned, f"{name} is not in {lock}"
        assert wanted.specifier.contains(pinned[name], prereleases=True), (name, pinned[name])
    text = (ROOT / lock).read_text(encoding="utf-8")
    for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 6)[-1]):
        if "==" in block:
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_the_vendored_snapshot_covers_the_lock_and_finds_nothing() -> None:
    assert _audit().check() == 0


def _snapshot(**package: object) -> dict[str, object]:
    return {"taken": "2026-12-07", "packages": {"flask": package}}


def test_a_known_advisory_for_a_locked_version_fails_the_check() -> None:
    advisory = {"id": "PYSEC-0000-1", "fixed_in": ["3.1.4"], "withdrawn": None}
    snapshot = _snapshot(locked="3.1.3", latest="3.1.3", covered=True, advisories=[advisory])
    failing, _uncovered = _audit().problems({"flask": "3.1.3"}, snapshot)
    assert failing == ["flask==3.1.3: PYSEC-0000-1 (fixed in 3.1.4)"]


def test_a_lock_newer_than_the_snapshot_fails_the_check() -> None:
    snapshot = _snapshot(locked="3.1.2", latest="3.1.2", covered=True, advisories=[])
    failing, _uncovered = _audit().problems({"flask": "3.1.3"}, snapshot)
    assert failing == ["flask==3.1.3: not in the snapshot (run: make advisories)"]


def test_a_version_below_the_newest_release_is_reported_as_not_covered() -> None:
    snapshot = _snapshot(locked="3.1.2", latest="3.1.3", covered=False, advisories=[])
    assert _audit().problems({"flask": "3.1.2"}, snapshot) == ([], ["flask==3.1.2"])
