"""`refuge user create` and `refuge audit verify|export`, and what a copied database yields."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select, text

from server import db, vault
from server.models.staff import AuditEvent, Role, User
from tests.checkin_helpers import Clock, Phone, register
from tests.portal_helpers import add_account, add_ngo, csrf_token, log_in
from tests.seizure import seize
from tests.test_cli_vault import invoke

PASSWORD = "a long passphrase for Kharkiv"
URI = re.compile(r"otpauth://totp/\S+")


@pytest.fixture
def kharkiv(app: Flask) -> Flask:
    add_ngo(app, "kharkiv", "Kharkiv Aid")
    return app


def _secret(output: str) -> tuple[str, bytes]:
    found = URI.search(output)
    assert found is not None, output
    uri = urlsplit(found[0])
    secret = parse_qs(uri.query)["secret"][0]
    return found[0], base64.b32decode(secret + "=" * (-len(secret) % 8))


def test_user_create_prints_the_totp_uri_once_and_the_account_logs_in(kharkiv: Flask) -> None:
    result = invoke(
        kharkiv, "user", "create", "Olena", "--partner", "kharkiv", "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    uri, secret = _secret(result.output)
    assert uri.startswith("otpauth://totp/Refuge:olena?")
    assert "issuer=Refuge" in uri
    assert f"secret: {vault.totp_secret_text(secret)}" in result.output
    with db.get_database(kharkiv).session() as session:
        user = session.scalars(select(User)).one()
        assert (user.username, user.role) == ("olena", Role.CASEWORKER)
        assert user.region_slugs == ["kharkiv"]  # a caseworker works where its NGO does
        assert user.organisation.name == "Kharkiv Aid"
    code = vault.totp_code(secret, datetime.now(UTC).timestamp())
    assert log_in(kharkiv.test_client(), "olena", PASSWORD, code).status_code == 302


def test_user_create_asks_for_the_password_twice_unseen(kharkiv: Flask) -> None:
    result = invoke(
        kharkiv, "user", "create", "tariq", "--locale", "uk", "--role", "translator",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert result.output.count("Password") == 1
    assert "Repeat for confirmation" in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "problem"),
    [
        (["olena", "--partner", "odesa"], PASSWORD, "no partner NGO for 'odesa'"),
        (["olena", "--partner", "kharkiv"], "short", "a password is 12 to 256"),
        (["o lena", "--partner", "kharkiv"], PASSWORD, "a username is"),
    ],
)
def test_user_create_refuses_what_cannot_work(
    kharkiv: Flask, args: list[str], stdin: str, problem: str
) -> None:
    result = invoke(kharkiv, "user", "create", *args, "--password-stdin", stdin=f"{stdin}\n")
    assert result.exit_code == 1
    assert problem in result.output


def test_a_username_is_taken_once_whatever_its_case(kharkiv: Flask) -> None:
    add_account(kharkiv, "olena", "kharkiv")
    result = invoke(
        kharkiv, "user", "create", "OLENA", "--partner", "kharkiv", "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "taken" in result.output


def test_the_audit_chain_verifies_and_a_tampered_row_breaks_it(kharkiv: Flask) -> None:
    olena = add_account(kharkiv, "olena", "kharkiv")
    client = kharkiv.test_client()
    log_in(client, "olena", "wrong password!!", olena.code())
    assert log_in(client, "olena", olena.password, olena.code()).status_code == 302
    client.post("/portal/notes/export", data={"csrf_token": csrf_token(client, "/portal/notes")})
    verified = invoke(kharkiv, "audit", "verify")
    assert verified.exit_code == 0
    assert "4 events" in verified.output

    exported = [json.loads(line) for line in invoke(kharkiv, "audit", "export").output.splitlines()]
    actions = [event["action"] for event in exported]
    assert actions == ["user_created", "login_failed", "login", "notes_exported"]
    assert [event["seq"] for event in exported] == [1, 2, 3, 4]
    assert exported[3]["detail"] == {"count": 0}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", event["at"]) for event in exported)

    with db.get_database(kharkiv).session() as session:
        session.execute(text("UPDATE audit_events SET action = 'logout' WHERE seq = 3"))
    broken = invoke(kharkiv, "audit", "verify")
    assert broken.exit_code == 1
    assert "broken at seq 3" in broken.output


def test_removing_a_row_from_the_middle_breaks_the_chain(kharkiv: Flask) -> None:
    olena = add_account(kharkiv, "olena", "kharkiv")
    for _ in range(3):
        log_in(kharkiv.test_client(), "olena", "wrong password!!", olena.code())
    with db.get_database(kharkiv).session() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
        assert session.scalar(select(AuditEvent.seq).where(AuditEvent.seq == 3)) == 3
    broken = invoke(kharkiv, "audit", "verify")
    assert broken.exit_code == 1
    assert "broken at seq 3" in broken.output


def test_a_seized_database_holds_no_password_totp_seed_or_note(kharkiv: Flask) -> None:
    note = "canary: the convoy leaves from the bakery at six"
    typed = "canary-typed-wrong-password"
    register(kharkiv, "+44 7700 900821", "en", "kharkiv")
    assert "sealed" in Phone(kharkiv, "+44 7700 900821", Clock(datetime.now(UTC))).ask(
        f"NOTE {note}"
    )
    olena = add_account(kharkiv, "olena", "kharkiv")
    client = kharkiv.test_client()
    log_in(client, "olena", typed, olena.code())
    assert log_in(client, "olena", olena.password, olena.code()).status_code == 302
    client.post("/portal/notes/export", data={"csrf_token": csrf_token(client, "/portal/notes")})

    raw = seize(db.get_database(kharkiv))
    base32 = vault.totp_secret_text(olena.secret)
    canaries = [
        text.encode(encoding)
        for text in (olena.password, typed, note, base32, base32.lower())
        for encoding in ("utf-8", "utf-16-le")
    ]
    canaries += [olena.secret, olena.secret.hex().encode(), note.encode().hex().encode()]
    canaries += [olena.password.encode().hex().encode()]
    assert [canary for canary in canaries if canary in raw] == []
