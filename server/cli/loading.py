"""How `refuge` builds its app: only when a command needs one, from the environment's settings.

Commands that work offline (`keys generate`, `notes keygen`, `notes open`) and `--help` never
build it, so they read no settings and write nothing. A command that serves asks for
`serving_app()`, which in development first makes the instance's keys (once).
"""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask
from flask.cli import ScriptInfo

from server.config import ConfigError, Settings, ensure_development_keys, from_environment


class RefugeScript(ScriptInfo):
    """The `refuge` command's app loader: settings are read when the first command needs them."""

    def __init__(self, factory: Callable[[Settings], Flask]) -> None:
        super().__init__(
            create_app=self._create_app, set_debug_flag=False, load_dotenv_defaults=False
        )
        self.factory = factory
        self.serving = False

    def _create_app(self) -> Flask:
        try:
            if self.serving:
                ensure_development_keys()
            settings = from_environment()
        except ConfigError as exc:
            click.echo(f"refuge: {exc}", err=True)
            raise SystemExit(2) from None
        return self.factory(settings)


def serving_app() -> Flask:
    """The app for a command that serves: in development its keys are made first if missing."""
    info = click.get_current_context().ensure_object(ScriptInfo)
    if isinstance(info, RefugeScript):
        info.serving = True
    return info.load_app()
