"""The application: `create_app` wires settings, extensions, blueprints, hooks and commands;
`main` is the `refuge` command around it (Flask's CLI with the app fixed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from server import cli, db, logs, portal, vault
from server.cli.loading import RefugeScript
from server.config import SETTINGS_EXTENSION, Settings, from_environment
from server.conversation import webhook
from server.delivery import channels, worker
from server.i18n import web as i18n
from server.web import api, checkin, errors, hardening, health, pages, simulator

csrf = CSRFProtect()

#: Largest request body accepted (imports go through the CLI, not HTTP uploads).
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def create_app(settings: Settings | None = None) -> Flask:
    """Build a Refuge application: wire settings, extensions, blueprints, hooks and commands."""
    settings = settings or from_environment()
    logs.configure_logging(settings.log_level)

    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=vault.derive_key(settings.secret_key, "flask-session"),
        SESSION_COOKIE_SECURE=settings.production or settings.https,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.portal_session_minutes),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        JSON_SORT_KEYS=False,
    )
    app.extensions[SETTINGS_EXTENSION] = settings

    keys = vault.Vault(settings.master_keys, settings.index_keys)
    db.init_app(app, db.Database(settings.database_url, keys))
    csrf.init_app(app)
    i18n.init_app(app)
    hardening.init_app(app)
    errors.init_app(app)

    # The outbound channel: the worker thread of `refuge demo` and the simulator share it.
    app.extensions[channels.CHANNEL_EXTENSION] = worker.make_channel(settings)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(webhook.blueprint)
    pages.init_app(app)
    api.init_app(app)
    app.register_blueprint(checkin.blueprint)  # /<locale>/checkin
    csrf.exempt(checkin.blueprint)  # its own signed form token: Flask-WTF's needs a cookie
    csrf.exempt(webhook.blueprint)  # signed by Twilio instead, and checked before anything else
    portal.init_app(app)  # /portal: NGO partners' login and their sealed notes
    cli.init_app(app)
    simulator.init_app(app)  # /dev/sms, in development with the console channel only
    return app


def main(argv: Sequence[str] | None = None) -> Any:
    """Entry point of the `refuge` console script: the commands build this app when they need it."""
    return cli.refuge.main(args=argv, prog_name="refuge", obj=RefugeScript(create_app))
