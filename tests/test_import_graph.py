"""Arrows one way: no import cycle between server's packages, and a pure SMS engine.

The graph joins the top-level packages and modules of `server` (`conversation`, `delivery`,
`config`...): an arrow for every `import` and `from ... import`, at module level or inside a
function; only imports under `if TYPE_CHECKING:` are left out, since they never run.
"""

from __future__ import annotations

import ast
import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "server"
#: What importing the pure engine must not load: the web stack, the database, password hashing.
HEAVY = ("flask", "werkzeug", "sqlalchemy", "argon2", "flask_babel")
#: Still loaded through a module another branch owns; the lead removes it at integration.

#: An importing file and line, for the message of a failing test.
Where = str
Graph = dict[str, dict[str, list[Where]]]


def module_name(path: Path, root: Path) -> str:
    """The dotted name of a source file under `root` (a package's `__init__` is the package)."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of every node under an `if TYPE_CHECKING:` block."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                hidden.update(id(child) for child in ast.walk(inner))
    return hidden


def imported(path: Path, root: Path) -> Iterator[tuple[str, int]]:
    """Every module name the file imports (with the line), resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = type_checking_only(tree)
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from server import x` is the module x when there is one (see `unit_of`).
                yield f"{base}.{alias.name}", node.lineno


def unit_of(module: str, root: Path) -> str | None:
    """The top-level package or module of `root` a module name falls in (None: outside)."""
    parts = module.split(".")
    if parts[0] != root.name:
        return None
    if len(parts) == 1:
        return root.name  # the package itself: its __init__
    top = parts[1]
    if (root / top).is_dir() or (root / f"{top}.py").is_file():
        return top
    return root.name  # an attribute of the package's __init__


def import_graph(root: Path) -> Graph:
    """Who imports whom among the top-level packages and modules under `root`."""
    graph: Graph = {}
    for path in sorted(root.rglob("*.py")):
        source = unit_of(module_name(path, root), root)
        assert source is not None
        for module, line in imported(path, root):
            target = unit_of(module, root)
            if target is None or target == source:
                continue
            where = f"{path.relative_to(root.parent)}:{line}"
            graph.setdefault(source, {}).setdefault(target, []).append(where)
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle of the graph as a closed path of units, or None when it has none."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(unit: str) -> list[str] | None:
        state[unit] = "open"
        path.append(unit)
        for target in sorted(graph.get(unit, {})):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[unit] = "done"
        return None

    for unit in sorted(graph):
        if unit not in state:
            found = visit(unit)
            if found:
                return found
    return None


def describe(graph: Graph, cycle: list[str]) -> str:
    """The cycle, each arrow with the first import that draws it."""
    arrows = [
        f"{source} -> {target} ({graph[source][target][0]})"
        for source, target in itertools.pairwise(cycle)
    ]
    return "import cycle between packages: " + "; ".join(arrows)


def test_no_import_cycle_between_packages() -> None:
    graph = import_graph(SERVER)
    cycle = find_cycle(graph)
    assert cycle is None, describe(graph, cycle or [])


def test_the_graph_counts_imports_inside_functions_but_not_type_checking_ones(
    tmp_path: Path,
) -> None:
    root = tmp_path / "server"
    (root / "sms").mkdir(parents=True)
    (root / "__init__.py").write_text('"""Empty."""\n')
    (root / "sms" / "__init__.py").write_text("")
    (root / "sms" / "engine.py").write_text("from server.delivery import outbox\n")
    (root / "delivery.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from server.config import Settings\n"
        "def later():\n    from .sms import engine\n"
    )
    (root / "config.py").write_text("from server import delivery\n")
    graph = import_graph(root)
    assert graph == {
        "sms": {"delivery": ["server/sms/engine.py:1"]},
        "delivery": {"sms": ["server/delivery.py:5"]},
        "config": {"delivery": ["server/config.py:1"]},
    }
    assert find_cycle(graph) == ["delivery", "sms", "delivery"]


@pytest.fixture(scope="module")
def loaded_by_engine() -> set[str]:
    """Top-level packages that `import server.conversation.engine` loads in a new interpreter."""
    program = (
        "import json, sys\nimport server.conversation.engine\n"
        "print(json.dumps(sorted({name.partition('.')[0] for name in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(
    "package",
    HEAVY,
)
def test_importing_the_engine_loads_no_web_or_database_stack(
    loaded_by_engine: set[str], package: str
) -> None:
    assert package not in loaded_by_engine
