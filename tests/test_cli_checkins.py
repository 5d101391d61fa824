"""`refuge checkins partner|partners` as an operator runs them."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from flask import Flask

from server import db, vault
from server.config import SETTINGS_EXTENSION, app_settings
from server.models.checkins import CheckinPartner
from tests.sms_helpers import load_demo_content
from tests.test_cli_vault import invoke

LINE = "+44 7700 900798"


def test_a_partner_is_registered_with_a_sealed_line_and_a_note_key(app: Flask) -> None:
    load_demo_content(app)
    _pem, public = vault.new_note_keypair()
    key = base64.b64encode(public).decode("ascii")
    args = ["--region", "kharkiv", "--name", "Kharkiv Aid", "--phone", LINE, "--note-key", key]
    result = invoke(app, "checkins", "partner", *args)
    assert result.exit_code == 0, result.output
    assert vault.key_fingerprint(public) in result.output
    listed = invoke(app, "checkins", "partners").output
    assert "kharkiv\tKharkiv Aid\talert line set" in listed
    assert "7700" not in listed
    with db.get_database(app).engine.connect() as connection:
        raw = repr(connection.exec_driver_sql("SELECT * FROM checkin_partners").all())
    assert "7700" not in raw
    assert "900798" not in raw
    with db.get_database(app).session() as session:
        from server.checkins import contacts

        partner = session.query(CheckinPartner).one()
        assert contacts.partner_line(session, partner) == "+447700900798"


def test_a_partner_needs_a_known_region_and_a_real_key(app: Flask) -> None:
    load_demo_content(app)
    unknown = invoke(app, "checkins", "partner", "--region", "atlantis", "--name", "X")
    assert unknown.exit_code != 0
    assert "no region" in unknown.output
    bad = invoke(
        app, "checkins", "partner", "--region", "kharkiv", "--name", "X", "--note-key", "abc"
    )
    assert bad.exit_code != 0
    assert "note-key" in bad.output


def test_an_alert_line_refuge_could_never_text_is_refused(app: Flask) -> None:
    """Nothing is accepted that cannot be honoured (issue 15): an NGO line abroad or a
    landline would have every escalation dropped by the worker."""
    load_demo_content(app)
    base = ["--region", "kharkiv", "--name", "Kharkiv Aid", "--phone"]
    abroad = invoke(app, "checkins", "partner", *base, "+371 2000 0000")  # Latvia
    assert abroad.exit_code != 0
    assert "outside the countries Refuge texts" in abroad.output
    assert "REFUGE_SMS_COUNTRIES" in abroad.output
    landline = invoke(app, "checkins", "partner", *base, "+44 20 7946 0123")
    assert landline.exit_code != 0
    assert "landline" in landline.output
    with db.get_database(app).session() as session:
        assert session.query(CheckinPartner).count() == 0


def test_the_list_says_when_a_line_can_no_longer_be_texted(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo_content(app)
    args = ["--region", "kharkiv", "--name", "Kharkiv Aid", "--phone", LINE]
    assert invoke(app, "checkins", "partner", *args).exit_code == 0
    settings = app_settings(app)
    narrowed = dataclasses.replace(
        settings, delivery=dataclasses.replace(settings.delivery, countries=("UA",))
    )
    monkeypatch.setitem(app.extensions, SETTINGS_EXTENSION, narrowed)
    listed = invoke(app, "checkins", "partners").output
    assert "kharkiv\tKharkiv Aid\talert line outside REFUGE_SMS_COUNTRIES" in listed
