"""A wheel installed for real (not editable) works from any folder: catalogues, migrations, demo
content and the privacy text travel inside the package."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from server import schema
from tests.conftest import refuge_env

ROOT = Path(__file__).resolve().parent.parent
#: What a build reads from a checkout; anything generated there (.mo files, caches) stays out.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "server")
GENERATED = shutil.ignore_patterns("__pycache__", "*.mo", ".compiled", "en_US_POSIX")


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def _fresh_environment(tmp_path: Path) -> Path:
    """A new venv that sees this venv's libraries, but not its editable Refuge or the checkout."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # A path line adds this venv's packages after the new venv's own; its .pth files (the
    # editable install's finder among them) are not run.
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def test_a_wheel_installed_elsewhere_migrates_and_loads_the_demo(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=GENERATED)
        else:
            shutil.copy2(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFUGE_", "PYTHON"))}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    wheels = tmp_path / "wheels"
    offline = ["--no-deps", "--no-index", "--no-build-isolation"]
    _run([*pip, "wheel", *offline, "-w", str(wheels), str(source)], tmp_path, env)
    (wheel,) = wheels.glob("refuge-*.whl")
    venv = _fresh_environment(tmp_path)
    python = str(venv / "bin" / "python")
    _run([*pip, "--python", python, "install", *offline, str(wheel)], tmp_path, env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refuge = str(venv / "bin" / "refuge")
    env.update(refuge_env(tmp_path, REFUGE_DATABASE_URL=f"sqlite:///{tmp_path / 'refuge.sqlite3'}"))
    where = _run([python, "-c", "import server; print(server.__file__)"], elsewhere, env)
    assert where.startswith(str(venv))
    version = _run([refuge, "--version"], elsewhere, env)
    assert version.strip() == f"refuge, version {importlib.metadata.version('refuge')}"
    migrated = _run([refuge, "db", "upgrade"], elsewhere, env)
    assert migrated.strip() == f"database at revision {schema.head_revision()}"
    loaded = _run([refuge, "content", "load"], elsewhere, env)
    assert "regions: " in loaded
    assert " created" in loaded
    shipped = (
        "from server.resources import shipped; "
        "print(shipped('locales', 'ar', 'LC_MESSAGES', 'messages.mo').stat().st_size, "
        "shipped('privacy.md').read_text(encoding='utf-8').splitlines()[0])"
    )
    size, title = _run([python, "-c", shipped], elsewhere, env).split(" ", 1)
    assert int(size) > 0
    assert title.strip() == "# What a seized Refuge server yields"
    assert list(elsewhere.iterdir()) == []
