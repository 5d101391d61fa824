"""The conversation engine reads no database: its modules import no Flask, ORM or PIN hashing.

Walked in the source (not by importing), so the test holds whatever the packages' own
`__init__` modules load. The catalogue (`server.i18n`) is the engine's to read.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The engine, its dispatcher, handlers and ports: everything `handle` may run.
ENGINE = ("server.sms.engine", "server.sms.dispatch")
#: Read by the engine but outside this walk: the catalogue.
ALLOWED = ("server.i18n",)
FORBIDDEN = (
    "flask",
    "flask_babel",
    "werkzeug",
    "sqlalchemy",
    "argon2",
    "server.db",
    "server.models",
    "server.vault",
    "server.people",
    "server.outbox",
    "server.checkins.plans",
    "server.checkins.contacts",
    "server.checkins.sweep",
    "server.sms.conversation",
    "server.sms.checkin_flow",
    "server.sms.library",
)


def _source(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(module: str) -> set[str]:
    path = _source(module)
    assert path is not None, module
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                inner = f"{node.module}.{alias.name}"
                found.add(inner if _source(inner) else node.module)
    return found


def _reached(start: tuple[str, ...]) -> set[str]:
    seen: set[str] = set()
    waiting = list(start)
    while waiting:
        module = waiting.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in _imported(module):
            if name.startswith("server.") and not name.startswith(ALLOWED) and _source(name):
                waiting.append(name)
            else:
                seen.add(name)
    return seen


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_engine_reaches_no_database_flask_or_pin_hashing_module() -> None:
    reached = _reached(ENGINE)
    assert "server.sms.checkin_setup" in reached  # the walk follows the handlers
    bad = sorted(name for name in reached for banned in FORBIDDEN if _under(name, banned))
    assert bad == []
