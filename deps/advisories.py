"""The dependency audit of `make check`, offline: the locked versions against a vendored
snapshot of the advisories PyPI publishes (the PyPA advisory database, through OSV).

    python deps/advisories.py check     # offline: what `make check` runs
    python deps/advisories.py refresh   # online: a new snapshot for the lock files, dated

`pip-audit` asks PyPI at every run, so it needs the network and its answer changes from one
day to the next; this check reads `deps/advisories.json` only. PyPI's JSON API publishes the
advisories of a project's newest release (`vulnerabilities`), not of older ones, so a locked
version that is not the newest is listed as not covered, never as safe. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = (ROOT / "requirements.lock", ROOT / "requirements-dev.lock")
SNAPSHOT = ROOT / "deps" / "advisories.json"
PROJECT_URL = "https://pypi.org/pypi/{name}/json"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def normalise(name: str) -> str:
    """A project name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(locks: tuple[Path, ...] = LOCKS) -> dict[str, str]:
    """Every `name==version` of the lock files."""
    found: dict[str, str] = {}
    for lock in locks:
        for name, version in _PIN.findall(lock.read_text(encoding="utf-8")):
            found[normalise(name)] = version
    return dict(sorted(found.items()))


def _advisory(entry: dict[str, object]) -> dict[str, object]:
    return {
        "id": entry.get("id"),
        "aliases": entry.get("aliases") or [],
        "fixed_in": entry.get("fixed_in") or [],
        "summary": entry.get("summary") or "",
        "link": entry.get("link") or "",
        "withdrawn": entry.get("withdrawn"),
    }


def refresh() -> int:
    """Ask PyPI about every locked project and write the snapshot (network needed)."""
    packages: dict[str, object] = {}
    for name, version in pins().items():
        with urllib.request.urlopen(PROJECT_URL.format(name=name), timeout=60) as answer:  # noqa: S310
            project = json.load(answer)
        latest = project["info"]["version"]
        packages[name] = {
            "locked": version,
            "latest": latest,
            # PyPI lists the advisories of the newest release only.
            "covered": version == latest,
            "advisories": [_advisory(entry) for entry in project.get("vulnerabilities", [])],
        }
    snapshot = {
        "taken": datetime.now(UTC).strftime("%Y-%m-%d"),
        "source": "PyPI JSON API, `vulnerabilities` of each locked project's newest release",
        "data_licence": "CC-BY-4.0 (PyPA advisory database, via OSV)",
        "packages": packages,
    }
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"advisories: snapshot of {len(packages)} projects written to {SNAPSHOT.name}")
    return 0


def problems(locked: dict[str, str], snapshot: dict[str, object]) -> tuple[list[str], list[str]]:
    """What fails the check (a stale snapshot, a known advisory), and what it cannot vouch for."""
    failing: list[str] = []
    uncovered: list[str] = []
    packages = snapshot["packages"]
    assert isinstance(packages, dict)
    for name, version in locked.items():
        known = packages.get(name)
        if known is None or known["locked"] != version:
            failing.append(f"{name}=={version}: not in the snapshot (run: make advisories)")
            continue
        if not known["covered"]:
            uncovered.append(f"{name}=={version}")
            continue
        for advisory in known["advisories"]:
            if not advisory.get("withdrawn"):
                fixed = ", ".join(advisory["fixed_in"]) or "no fix yet"
                failing.append(f"{name}=={version}: {advisory['id']} (fixed in {fixed})")
    return failing, uncovered


def check() -> int:
    """Offline: exit 1 when a locked version has a known advisory or the snapshot is stale."""
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    failing, uncovered = problems(pins(), snapshot)
    for line in failing:
        print(f"advisories: {line}", file=sys.stderr)
    if failing:
        return 1
    print(
        f"advisories: no known advisory for the locked versions (snapshot of {snapshot['taken']};"
        f" {len(uncovered)} pinned below their newest release, not covered: see docs/operating.md)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """`check` (offline) or `refresh` (online)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=("check", "refresh"))
    command = parser.parse_args(argv).command
    return check() if command == "check" else refresh()


if __name__ == "__main__":
    raise SystemExit(main())
