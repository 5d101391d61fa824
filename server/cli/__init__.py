"""The `refuge` command: every operator task, on top of Flask's CLI.

`refuge ...` (`server.app.main`) and `flask --app server.app ...` run the same commands; each
area's commands are in the module named after it. `refuge` reads its settings only when a
command needs the app, so `--help`, `--version` and the offline key commands need no settings
at all. Configuration
problems and an unreachable database end the command with one line that names the problem.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, routes_command, shell_command

from server.cli import checkins, content, db, i18n, interchange, serve, staff, status, vault

#: The distribution `pip install` knows Refuge by (pyproject.toml's project name).
DISTRIBUTION = "refuge"
#: Every operator command, for `refuge` and for the app's own CLI.
COMMANDS: tuple[click.Command, ...] = (
    *db.COMMANDS,
    *serve.COMMANDS,
    *vault.COMMANDS,
    *content.COMMANDS,
    *interchange.COMMANDS,
    *i18n.COMMANDS,
    *checkins.COMMANDS,
    *staff.COMMANDS,
    *status.COMMANDS,
)


def init_app(app: Flask) -> None:
    """Register every operator command on the app's CLI (`flask --app server ...`)."""
    for command in COMMANDS:
        app.cli.add_command(command)


@click.group(
    "refuge",
    cls=AppGroup,
    help="Refuge: verified crisis resources, credible information and check-ins over SMS "
    "and the web. Settings come from REFUGE_* environment variables (see README).",
)
@click.version_option(package_name=DISTRIBUTION, prog_name="refuge")
def refuge() -> None:
    """The `refuge` group; its commands build the app when they need it."""


for _command in (*COMMANDS, shell_command, routes_command):
    refuge.add_command(_command)
