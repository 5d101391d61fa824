"""The partner portal: logging in with password and TOTP, and a caseworker's sealed notes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from server import audit, db, vault
from server.app import create_app
from server.config import ConfigError, Settings
from server.models.staff import AuditEvent, Role, User
from server.portal import auth
from server.portal import session as portal_session
from server.web.ratelimit import RateLimiter
from tests.checkin_helpers import Clock, Phone, add_partner, register
from tests.portal_helpers import (
    Account,
    Ngo,
    add_account,
    add_ngo,
    csrf_token,
    error_of,
    log_in,
)
from tests.test_cli_vault import invoke

KHARKIV_NOTE = "They moved the families from the school to the station."
ODESA_NOTE = "The boat leaves on Thursday; my cousin has the papers."
ROTATED_NOTE = "Written after the NGO changed its key."
ROW = re.compile(r"<code dir=\"ltr\"[^>]*>([0-9a-f]{32})</code>")
HANDLE = re.compile(r'<form method="post" action="(/portal/notes/[0-9a-f]{32}/handled[^"]*)">')
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(app: Flask) -> tuple[Flask, dict[str, Ngo], dict[str, Account]]:
    """Two NGOs, a note for each sent by SMS, a caseworker of each and a translator."""
    ngos = {
        "kharkiv": add_ngo(app, "kharkiv", "Kharkiv Aid"),
        "odesa": add_ngo(app, "odesa", "Odesa Shelter"),
    }
    clock = Clock(datetime.now(UTC))
    for number, region, note in (
        ("+44 7700 900811", "kharkiv", KHARKIV_NOTE),
        ("+44 7700 900812", "odesa", ODESA_NOTE),
    ):
        register(app, number, "en", region)
        assert "sealed" in Phone(app, number, clock).ask(f"NOTE {note}")
    accounts = {
        "kharkiv": add_account(app, "Olena.K", "kharkiv"),
        "odesa": add_account(app, "mykola", "odesa"),
        "translator": add_account(app, "tariq", "kharkiv", Role.TRANSLATOR),
    }
    return app, ngos, accounts


def _signed_in(client: FlaskClient, account: Account) -> None:
    response = log_in(client, account.username, account.password, account.code())
    assert response.status_code == 302, error_of(response)


def _user(app: Flask, username: str) -> User:
    with db.get_database(app).session() as session:
        found = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(found)
        return found


def test_a_caseworker_logs_in_with_password_and_a_real_totp_code(world: tuple) -> None:
    app, _ngos, accounts = world
    client = app.test_client()
    olena = accounts["kharkiv"]
    response = log_in(client, "  OLENA.k ", olena.password, olena.code())  # any case, trimmed
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/portal/")
    # A caseworker's sections: the notes and the signals (issue 19), both linked from home.
    home = client.get("/portal/").get_data(as_text=True)
    assert 'href="/portal/notes"' in home
    notes = client.get("/portal/notes")
    assert "Kharkiv Aid" in notes.get_data(as_text=True)


def _steady(page: str) -> str:
    """A page without what differs on every render: the CSRF token and the CSP nonce."""
    page = re.sub(r'value="[^"]{40,}"', 'value=""', page)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', page)


def test_wrong_password_wrong_code_and_unknown_user_look_identical(world: tuple) -> None:
    app, _ngos, accounts = world
    olena = accounts["kharkiv"]
    wrong_code = f"{(int(olena.code()) + 1) % 1_000_000:06d}"
    answers = []
    for username, password, code in (
        (olena.username, "not the password at all", olena.code()),
        (olena.username, olena.password, wrong_code),
        ("nobody-here", olena.password, olena.code()),
    ):
        response = log_in(app.test_client(), username, password, code)
        page = response.get_data(as_text=True)
        answers.append((response.status_code, error_of(response), _steady(page)))
    assert answers[0][0] == 401
    assert answers[0][1]
    assert answers[0] == answers[1] == answers[2]


def test_a_totp_code_is_accepted_only_once(world: tuple) -> None:
    app, _ngos, accounts = world
    olena = accounts["kharkiv"]
    code = olena.code()
    first = app.test_client()
    assert log_in(first, olena.username, olena.password, code).status_code == 302
    replayed = log_in(app.test_client(), olena.username, olena.password, code)
    assert replayed.status_code == 401


def test_five_failures_lock_the_account_for_fifteen_minutes(world: tuple) -> None:
    app, _ngos, accounts = world
    olena = accounts["kharkiv"]
    for _ in range(5):
        failed = log_in(app.test_client(), olena.username, "wrong password!!", olena.code())
        assert failed.status_code == 401
    locked = log_in(app.test_client(), olena.username, olena.password, olena.code())
    assert locked.status_code == 401
    assert error_of(locked) == error_of(failed)  # the lock is not announced
    until = _user(app, olena.username).locked_until
    assert until is not None
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
    with db.get_database(app).session() as session:
        session.execute(
            update(User)
            .where(User.username == olena.username)
            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    later = log_in(app.test_client(), olena.username, olena.password, olena.code())
    assert later.status_code == 302


def test_a_client_trying_too_fast_is_held_back_before_any_hashing(world: tuple) -> None:
    app, _ngos, accounts = world
    olena = accounts["kharkiv"]
    client = app.test_client()
    # A stopped clock: three logins must not straddle the limiter's one-minute windows.
    app.extensions[auth.LIMITER_EXTENSION] = RateLimiter(limit=2, clock=lambda: 1_000.0)
    for _ in range(2):
        assert log_in(client, olena.username, "wrong password!!", olena.code()).status_code == 401
    held = log_in(client, olena.username, olena.password, olena.code())
    assert held.status_code == 429
    assert _user(app, olena.username).last_totp_step is None


def test_a_login_without_the_csrf_token_is_refused(world: tuple) -> None:
    app, _ngos, accounts = world
    olena = accounts["kharkiv"]
    client = app.test_client()
    response = client.post(
        "/portal/login",
        data={"username": olena.username, "password": olena.password, "code": olena.code()},
    )
    assert response.status_code == 400
    assert client.get("/portal/notes").status_code == 302
    assert _user(app, olena.username).last_totp_step is None  # nothing was even tried


def test_an_idle_session_expires_back_to_the_login(world: tuple) -> None:
    app, _ngos, accounts = world
    client = app.test_client()
    _signed_in(client, accounts["kharkiv"])
    assert client.get("/portal/notes").status_code == 200
    with client.session_transaction() as cookie:
        cookie[portal_session.SEEN_KEY] = int(time.time()) - 31 * 60
    expired = client.get("/portal/notes")
    assert expired.status_code == 302
    assert expired.headers["Location"].endswith("/portal/login")
    assert client.post("/portal/notes/export").status_code == 400  # no session, no token


def test_the_idle_limit_is_a_setting(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="REFUGE_PORTAL_SESSION_MINUTES"):
        make_settings(REFUGE_PORTAL_SESSION_MINUTES="0")
    app = create_app(make_settings(REFUGE_PORTAL_SESSION_MINUTES="5"))
    db.Base.metadata.create_all(db.get_database(app).engine)
    add_ngo(app, "kharkiv", "Kharkiv Aid")
    client = app.test_client()
    _signed_in(client, add_account(app, "olena", "kharkiv"))
    for idle_minutes, status in ((4, 200), (6, 302)):
        with client.session_transaction() as cookie:
            cookie[portal_session.SEEN_KEY] = int(time.time()) - idle_minutes * 60
        assert client.get("/portal/notes").status_code == status
    db.get_database(app).dispose()


def test_logging_out_ends_copies_of_the_session_cookie_too(world: tuple) -> None:
    app, _ngos, accounts = world
    client = app.test_client()
    _signed_in(client, accounts["kharkiv"])
    with client.session_transaction() as cookie:
        copied = dict(cookie)
    token = csrf_token(client, "/portal/notes")
    assert client.post("/portal/logout", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    with thief.session_transaction() as cookie:
        cookie.update(copied)
    assert thief.get("/portal/notes").status_code == 302


def test_each_ngo_sees_only_its_own_notes(world: tuple) -> None:
    app, ngos, accounts = world
    seen = {}
    for region in ("kharkiv", "odesa"):
        client = app.test_client()
        _signed_in(client, accounts[region])
        page = client.get("/portal/notes").get_data(as_text=True)
        seen[region] = ROW.findall(page)
        assert "1 sealed note" in page
        assert ngos[region].name in page
        assert KHARKIV_NOTE not in page
        assert ODESA_NOTE not in page
    assert len(seen["kharkiv"]) == len(seen["odesa"]) == 1
    assert seen["kharkiv"] != seen["odesa"]


def _rotate(app: Flask) -> Ngo:
    """Kharkiv Aid replaces its note key, and its person leaves a note under the new one."""
    private, public = vault.new_note_keypair()
    add_partner(app, "kharkiv", "Kharkiv Aid", None, public)
    clock = Clock(datetime.now(UTC))
    assert "sealed" in Phone(app, "+44 7700 900811", clock).ask(f"NOTE {ROTATED_NOTE}")
    return Ngo("kharkiv", "Kharkiv Aid", private, public)


def _section(page: str, fingerprint: str) -> str:
    """The part of the notes page about one key."""
    start = page.index(f'<section aria-labelledby="key-{fingerprint}">')
    return page[start : page.index("</section>", start)]


def test_a_rotated_note_key_hides_no_note_and_marks_each_with_its_key(world: tuple) -> None:
    app, ngos, accounts = world
    old = vault.key_fingerprint(ngos["kharkiv"].public)
    new = vault.key_fingerprint(_rotate(app).public)
    client = app.test_client()
    _signed_in(client, accounts["kharkiv"])
    page = client.get("/portal/notes").get_data(as_text=True)
    assert "2 sealed notes" in page
    current, earlier = _section(page, new), _section(page, old)
    assert f'Current key <bdi dir="ltr">{new}</bdi>' in current
    assert f'Earlier key <bdi dir="ltr">{old}</bdi>' in earlier
    assert page.index(current) < page.index(earlier)  # the key in use first
    assert len(ROW.findall(current)) == len(ROW.findall(earlier)) == 1
    assert ROW.findall(current) != ROW.findall(earlier)
    odesa = app.test_client()
    _signed_in(odesa, accounts["odesa"])
    assert "1 sealed note" in odesa.get("/portal/notes").get_data(as_text=True)


def test_each_key_downloads_its_own_notes_which_that_key_opens(
    world: tuple, tmp_path: Path
) -> None:
    app, ngos, accounts = world
    rotated = _rotate(app)
    client = app.test_client()
    _signed_in(client, accounts["kharkiv"])
    page = client.get("/portal/notes").get_data(as_text=True)
    assert page.count("not yet") == 2
    opened = {}
    for ngo in (ngos["kharkiv"], rotated):
        fingerprint = vault.key_fingerprint(ngo.public)
        token = csrf_token(client, "/portal/notes")
        download = client.post(
            "/portal/notes/export", data={"csrf_token": token, "key": fingerprint}
        )
        assert download.status_code == 200
        body = download.get_data(as_text=True)
        assert body == invoke(app, "notes", "export", "--recipient", fingerprint).output
        key_file = tmp_path / f"{fingerprint}.pem"
        key_file.write_bytes(ngo.private_pem)
        result = invoke(app, "notes", "open", "--key", str(key_file), stdin=body)
        assert result.exit_code == 0, result.output  # every line opens with this key
        opened[fingerprint] = result.output
    assert KHARKIV_NOTE in opened[vault.key_fingerprint(ngos["kharkiv"].public)]
    assert ROTATED_NOTE not in opened[vault.key_fingerprint(ngos["kharkiv"].public)]
    assert ROTATED_NOTE in opened[vault.key_fingerprint(rotated.public)]
    page = client.get("/portal/notes").get_data(as_text=True)
    assert "not yet" not in page  # both marked downloaded, with the day
    assert page.count(f'<td><bdi dir="ltr">{date.today().isoformat()}</bdi></td>') >= 2


def test_notes_stay_listed_and_downloadable_when_the_key_is_removed(world: tuple) -> None:
    """`refuge checkins partner` without --note-key leaves the NGO with no key: nobody can
    leave it a new note, but the notes it had stay listed under their key and download."""
    app, ngos, accounts = world
    old = vault.key_fingerprint(ngos["kharkiv"].public)
    add_partner(app, "kharkiv", "Kharkiv Aid", None, None)
    client = app.test_client()
    _signed_in(client, accounts["kharkiv"])
    page = client.get("/portal/notes").get_data(as_text=True)
    assert "no note key yet" in page
    assert f'Earlier key <bdi dir="ltr">{old}</bdi>' in _section(page, old)
    token = csrf_token(client, "/portal/notes")
    download = client.post("/portal/notes/export", data={"csrf_token": token, "key": old})
    assert download.status_code == 200
    assert len(download.get_data(as_text=True).splitlines()) == 1


def test_another_organisations_key_downloads_nothing(world: tuple) -> None:
    app, ngos, accounts = world
    client = app.test_client()
    _signed_in(client, accounts["kharkiv"])
    token = csrf_token(client, "/portal/notes")
    odesa_key = vault.key_fingerprint(ngos["odesa"].public)
    refused = client.post("/portal/notes/export", data={"csrf_token": token, "key": odesa_key})
    assert refused.status_code == 404
    assert b"sealed" not in refused.data
    odesa = app.test_client()
    _signed_in(odesa, accounts["odesa"])
    assert "not yet" in odesa.get("/portal/notes").get_data(as_text=True)


def _handle_button(page: str) -> tuple[str, str]:
    found = HANDLE.search(page)
    assert found is not None, page
    token = TOKEN.search(page[found.end() :])
    assert token is not None
    return found[1], token[1]


def test_a_caseworker_marks_a_note_handled_once_and_the_audit_says_who(world: tuple) -> None:
    app, _ngos, accounts = world
    client = app.test_client()
    _signed_in(client, accounts["kharkiv"])
    page = client.get("/portal/notes").get_data(as_text=True)
    assert "Mark handled" in page
    action, token = _handle_button(page)
    answer = client.post(action, data={"csrf_token": token})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Mark handled" not in page
    today = date.today()
    kept = (today + timedelta(days=90)).isoformat()
    assert f'<td><bdi dir="ltr">{today.isoformat()}</bdi></td>' in page
    assert f'<td><bdi dir="ltr">{kept}</bdi></td>' in page
    assert client.post(action, data={"csrf_token": token}).status_code == 302  # again: no-op
    with db.get_database(app).session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "note_handled")).all()
        assert len(rows) == 1
        assert rows[0].actor_id == _user(app, accounts["kharkiv"].username).id
        assert rows[0].detail == {"note": action.split("/")[-2]}
    assert invoke(app, "audit", "verify").exit_code == 0


def test_only_the_organisation_may_mark_its_note_handled_and_only_with_the_form(
    world: tuple,
) -> None:
    app, _ngos, accounts = world
    olena = app.test_client()
    _signed_in(olena, accounts["kharkiv"])
    action, _token = _handle_button(olena.get("/portal/notes").get_data(as_text=True))
    assert olena.post(action).status_code == 400  # no CSRF token: refused, nothing marked
    mykola = app.test_client()
    _signed_in(mykola, accounts["odesa"])
    other = csrf_token(mykola, "/portal/notes")
    assert mykola.post(action, data={"csrf_token": other}).status_code == 404
    assert (
        mykola.post("/portal/notes/nonsense/handled", data={"csrf_token": other}).status_code == 404
    )
    translator = app.test_client()
    _signed_in(translator, accounts["translator"])
    theirs = csrf_token(translator, "/portal/translate/uk")
    assert translator.post(action, data={"csrf_token": theirs}).status_code == 403
    assert "Mark handled" in olena.get("/portal/notes").get_data(as_text=True)
    with db.get_database(app).session() as session:
        assert (
            session.scalars(select(AuditEvent).where(AuditEvent.action == "note_handled")).all()
            == []
        )


def test_a_translator_and_a_stranger_see_no_notes(world: tuple) -> None:
    app, _ngos, accounts = world
    stranger = app.test_client()
    assert stranger.get("/portal/notes").headers["Location"].endswith("/portal/login")
    translator = app.test_client()
    _signed_in(translator, accounts["translator"])
    assert translator.get("/portal/", follow_redirects=True).status_code == 200
    assert translator.get("/portal/notes").status_code == 403
    # The translator's one section, where /portal/ takes them, carries the session's token.
    token = csrf_token(translator, "/portal/translate/uk")
    refused = translator.post("/portal/notes/export", data={"csrf_token": token})
    assert refused.status_code == 403
    assert b"sealed" not in refused.data


def test_the_download_opens_offline_with_the_ngo_key(world: tuple, tmp_path: Path) -> None:
    app, ngos, accounts = world
    client = app.test_client()
    _signed_in(client, accounts["kharkiv"])
    token = csrf_token(client, "/portal/notes")
    download = client.post("/portal/notes/export", data={"csrf_token": token})
    assert download.status_code == 200
    assert download.mimetype == "application/x-ndjson"
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    assert download.headers["Cache-Control"] == "no-store"
    body = download.get_data(as_text=True)
    assert KHARKIV_NOTE not in body

    fingerprint = vault.key_fingerprint(ngos["kharkiv"].public)
    cli = invoke(app, "notes", "export", "--recipient", fingerprint)
    assert body == cli.output  # the same file, byte for byte
    key_file = tmp_path / "kharkiv.pem"
    key_file.write_bytes(ngos["kharkiv"].private_pem)
    opened = invoke(app, "notes", "open", "--key", str(key_file), stdin=body)
    assert opened.exit_code == 0
    assert KHARKIV_NOTE in opened.output
    assert ODESA_NOTE not in opened.output

    with db.get_database(app).session() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert last is not None
        assert (last.action, last.detail) == ("notes_exported", {"count": 1})
        assert last.actor_id == _user(app, accounts["kharkiv"].username).id
    assert invoke(app, "audit", "verify").exit_code == 0


def test_every_portal_page_is_private_hardened_and_script_free(world: tuple) -> None:
    app, _ngos, accounts = world
    client = app.test_client()
    pages = [client.get("/portal/login")]
    _signed_in(client, accounts["kharkiv"])
    pages.append(client.get("/portal/notes"))
    for response in pages:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        page = response.get_data(as_text=True)
        assert '<meta name="robots" content="noindex, nofollow">' in page
        assert "<script" not in page
        assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from elsewhere


def test_the_session_cookie_is_secure_httponly_and_strict_over_https(
    make_settings: Callable[..., Settings],
) -> None:
    secure = create_app(make_settings(REFUGE_PUBLIC_URL="https://refuge.example"))
    db.Base.metadata.create_all(db.get_database(secure).engine)
    cookie = secure.test_client().get("/portal/login").headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    db.get_database(secure).dispose()


@pytest.mark.parametrize(
    ("locale", "direction", "log_in_text"),
    [("ar", "rtl", "تسجيل الدخول"), ("my", "ltr", "ဝင်ရောက်ရန်")],
)
def test_the_portal_speaks_arabic_and_burmese(
    world: tuple, locale: str, direction: str, log_in_text: str
) -> None:
    app, _ngos, accounts = world
    client = app.test_client()
    by_query = client.get(f"/portal/login?lang={locale}").get_data(as_text=True)
    assert f'<html lang="{locale}" dir="{direction}">' in by_query
    assert log_in_text in by_query
    assert client.get("/portal/login?lang=xx-bogus").status_code == 200
    by_header = client.get("/portal/login", headers={"Accept-Language": locale})
    assert f'<html lang="{locale}" dir="{direction}">' in by_header.get_data(as_text=True)
    olena = accounts["kharkiv"]
    failed = log_in(client, olena.username, "wrong password!!", olena.code(), f"?lang={locale}")
    assert f'dir="{direction}"' in failed.get_data(as_text=True)
    signed = log_in(client, olena.username, olena.password, olena.code(), f"?lang={locale}")
    assert f"lang={locale}" in signed.headers["Location"]  # the choice follows the caseworker
    home = client.get(signed.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert f'<html lang="{locale}" dir="{direction}">' in home
    assert f'href="/portal/notes?lang={locale}"' in home  # and every link keeps it
    page = client.get(f"/portal/notes?lang={locale}").get_data(as_text=True)
    assert f'<html lang="{locale}" dir="{direction}">' in page
    assert "refuge notes open --key FILE" in page


def test_the_audit_holds_no_username_typed_or_password(world: tuple) -> None:
    app, _ngos, accounts = world
    olena = accounts["kharkiv"]
    log_in(app.test_client(), "olena-typo-secret", olena.password, olena.code())
    log_in(app.test_client(), olena.username, "hunter2-canary-pass", olena.code())
    exported = invoke(app, "audit", "export").output
    for secret in ("olena-typo-secret", "hunter2-canary-pass", olena.password):
        assert secret not in exported
    # The export names accounts by username, looked up as it runs; the rows keep only ids.
    with db.get_database(app).session() as session:
        stored = "".join(
            audit.canonical(event).decode() for event in session.scalars(select(AuditEvent))
        )
    assert olena.username not in stored
    lines = [json.loads(line) for line in exported.splitlines()]
    assert [line["action"] for line in lines[-2:]] == ["login_failed", "login_failed"]
    assert [line["actor_name"] for line in lines[-2:]] == [None, olena.username]


def test_logging_in_never_hashes_less_for_an_unknown_name(
    world: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ngos, accounts = world
    calls: list[str | None] = []
    real = vault.Vault.verify_password

    def counting(self: vault.Vault, hashed: str | None, password: str) -> bool:
        calls.append(hashed)
        return real(self, hashed, password)

    monkeypatch.setattr(vault.Vault, "verify_password", counting)
    log_in(app.test_client(), "nobody-here", "whatever password", "123456")
    log_in(app.test_client(), accounts["kharkiv"].username, "whatever password", "123456")
    assert len(calls) == 2
    assert calls[0] is None
    assert calls[1] is not None


def test_a_busy_database_during_a_download_asks_to_retry_and_records_nothing(
    world: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ngos, accounts = world
    client = app.test_client()
    _signed_in(client, accounts["kharkiv"])
    token = csrf_token(client, "/portal/notes")
    with db.get_database(app).session() as session:
        before = audit.count(session)

    def collided(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("INSERT INTO audit_events", {}, Exception("database is locked"))

    monkeypatch.setattr(audit, "record", collided)
    answer = client.post("/portal/notes/export", data={"csrf_token": token})
    assert answer.status_code == 503
    assert "try again" in answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    monkeypatch.undo()
    with db.get_database(app).session() as session:
        assert audit.count(session) == before
    # Once the database answers again, the same session downloads.
    token = csrf_token(client, "/portal/notes")
    assert client.post("/portal/notes/export", data={"csrf_token": token}).status_code == 200
