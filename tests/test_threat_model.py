"""docs/threat-model.md backs each line with a named test: every test it names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMED = re.compile(r"`(test_[a-z0-9_]+\.py)(?:::(test_[a-z0-9_]+))?`|`::(test_[a-z0-9_]+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_test_the_threat_model_names_exists() -> None:
    text = (ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")
    named: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        current = None
        for found in NAMED.finditer(line):
            module, test, continued = found.groups()
            if module:
                current = module
                named.append((module, test))
            elif continued:
                assert current is not None, line  # "::name" continues the file before it
                named.append((current, continued))
    assert len(named) > 40
    for module, test in named:
        path = ROOT / "tests" / module
        assert path.exists(), module
        if test is not None:
            assert test in _tests_in(path), f"{module}::{test}"
