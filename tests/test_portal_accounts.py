"""Admins look after accounts in the portal, within their own scope, and every act is audited."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from server import db, logs, staff
from server.app import create_app
from server.config import ConfigError, Settings
from server.models.staff import Invite, Role, User
from tests.account_helpers import (
    account_id,
    actions,
    forget_code_use,
    fresh_account,
    invite_token,
    user,
)
from tests.portal_helpers import (
    PASSWORD,
    TOKEN,
    Account,
    add_account,
    add_ngo,
    add_region,
    error_of,
    log_in,
)
from tests.test_cli_portal import _secret

NONCE = re.compile(r'nonce="[^"]*"')
LINK = re.compile(r"https?://[^<\s\"]+/portal/invite/([0-9a-f]{64})")


@pytest.fixture
def admins(app: Flask) -> dict[str, Account]:
    """An admin of Kharkiv (Saltivka lies under it), and one of every region; Odesa apart."""
    add_ngo(app, "kharkiv", "Kharkiv Aid")
    add_region(app, "saltivka", parent="kharkiv")
    add_ngo(app, "odesa", "Odesa Aid")
    kharkiv = add_account(app, "anna", "kharkiv", Role.ADMIN)
    with db.get_database(app).session() as session:
        made = staff.create_user(session, "root", PASSWORD, Role.ADMIN)
    return {"kharkiv": kharkiv, "everywhere": Account("root", PASSWORD, made.totp_secret)}


def _same_page(one: str, other: str, names: tuple[object, object]) -> bool:
    """Whether two pages read the same but for the address each was asked for (its language
    links keep it) and its CSP nonce."""
    first, second = (str(name) for name in names)
    return NONCE.sub("", one.replace(first, "X")) == NONCE.sub("", other.replace(second, "X"))


def _signed_in(app: Flask, account: Account) -> tuple[FlaskClient, str]:
    client = app.test_client()
    forget_code_use(app, account.username)
    assert log_in(client, account.username, account.password, account.code()).status_code == 302
    page = client.get("/portal/accounts").get_data(as_text=True)
    return client, TOKEN.search(page)[1]  # type: ignore[index]


def test_an_admin_lists_only_the_accounts_within_its_scope(
    app: Flask, admins: dict[str, Account]
) -> None:
    add_account(app, "saltivka-editor", "saltivka", Role.EDITOR)
    add_account(app, "odesa-editor", "odesa", Role.EDITOR)
    add_account(app, "translator", "kharkiv", Role.TRANSLATOR)  # no region: works everywhere
    client, _token = _signed_in(app, admins["kharkiv"])
    page = client.get("/portal/accounts").get_data(as_text=True)
    assert "saltivka-editor" in page
    assert "odesa-editor" not in page
    assert ">translator<" not in page
    assert ">root<" not in page
    client, _token = _signed_in(app, admins["everywhere"])
    page = client.get("/portal/accounts").get_data(as_text=True)
    for name in ("saltivka-editor", "odesa-editor", "translator", "anna"):
        assert name in page


def test_an_account_outside_the_scope_answers_like_one_that_does_not_exist(
    app: Flask, admins: dict[str, Account]
) -> None:
    outside, _account = fresh_account(app, "odesa")
    client, token = _signed_in(app, admins["kharkiv"])
    nowhere = uuid.uuid4()
    missing = client.get(f"/portal/accounts/{nowhere}")
    hidden = client.get(f"/portal/accounts/{outside}")
    assert missing.status_code == hidden.status_code == 404
    assert _same_page(
        missing.get_data(as_text=True), hidden.get_data(as_text=True), (nowhere, outside)
    )
    assert (
        client.post(f"/portal/accounts/{outside}/disable", data={"csrf_token": token}).status_code
        == 404
    )
    assert user(app, _account.username).disabled is False


def test_disable_enable_unlock_and_a_new_key_are_audited_with_the_admin_as_actor(
    app: Flask, admins: dict[str, Account]
) -> None:
    target, editor = fresh_account(app, "saltivka")
    editor_client, _token = _signed_in(app, editor)
    client, token = _signed_in(app, admins["kharkiv"])
    base = f"/portal/accounts/{target}"
    assert client.post(f"{base}/disable", data={"csrf_token": token}).status_code == 302
    assert user(app, editor.username).disabled
    assert editor_client.get("/portal/").status_code == 302  # its session ended
    assert "Disabled" in client.get(base).get_data(as_text=True)
    assert client.post(f"{base}/enable", data={"csrf_token": token}).status_code == 302
    with db.get_database(app).session() as session:
        session.execute(
            update(User)
            .where(User.id == target)
            .values(locked_until=datetime.now(UTC) + timedelta(minutes=10))
        )
    assert client.post(f"{base}/unlock", data={"csrf_token": token}).status_code == 302
    assert user(app, editor.username).locked_until is None
    page = client.post(f"{base}/reset-totp", data={"csrf_token": token}).get_data(as_text=True)
    _uri, secret = _secret(html.unescape(page))
    forget_code_use(app, editor.username)
    assert (
        log_in(app.test_client(), editor.username, editor.password, editor.code()).status_code
        == 401
    )
    renewed = Account(editor.username, editor.password, secret)
    assert (
        log_in(app.test_client(), renewed.username, renewed.password, renewed.code()).status_code
        == 302
    )
    admin_id = account_id(app, "anna").hex
    done = [(action, actor) for action, actor, about in actions(app) if about == target.hex]
    for action in ("user_disabled", "user_enabled", "user_unlocked", "totp_reset"):
        assert (action, admin_id) in done


def test_an_admin_cannot_disable_itself(app: Flask, admins: dict[str, Account]) -> None:
    client, token = _signed_in(app, admins["kharkiv"])
    own = account_id(app, "anna")
    assert "/disable" not in client.get(f"/portal/accounts/{own}").get_data(as_text=True)
    assert (
        client.post(f"/portal/accounts/{own}/disable", data={"csrf_token": token}).status_code
        == 403
    )
    assert not user(app, "anna").disabled


def _new_account(client: FlaskClient, token: str, **fields: object) -> str:
    data = {"csrf_token": token, **fields}
    return client.post("/portal/accounts/new", data=data).get_data(as_text=True)


def test_an_invited_account_sets_its_password_and_key_once_and_logs_in(
    app: Flask, admins: dict[str, Account]
) -> None:
    client, token = _signed_in(app, admins["kharkiv"])
    page = _new_account(client, token, username="Petro", role="editor", region="saltivka")
    link = LINK.search(page)
    assert link is not None, page
    invitee = app.test_client()
    form = invitee.get(f"/portal/invite/{link[1]}").get_data(as_text=True)
    _uri, secret = _secret(html.unescape(form))
    invite_token = TOKEN.search(form)[1]  # type: ignore[index]
    petro = Account("petro", "a passphrase Petro chose", secret)
    wrong = invitee.post(
        f"/portal/invite/{link[1]}",
        data={
            "csrf_token": invite_token,
            "password": petro.password,
            "password_again": petro.password,
            "code": "000000",
        },
    )
    assert wrong.status_code == 200
    assert user(app, "petro").password_hash == ""
    done = invitee.post(
        f"/portal/invite/{link[1]}",
        data={
            "csrf_token": invite_token,
            "password": petro.password,
            "password_again": petro.password,
            "code": petro.code(),
        },
    )
    assert done.status_code == 302
    forget_code_use(app, "petro")
    assert (
        log_in(app.test_client(), petro.username, petro.password, petro.code()).status_code == 302
    )
    # Used: the link now answers exactly as one that never existed.
    used = invitee.get(f"/portal/invite/{link[1]}")
    unknown = invitee.get("/portal/invite/no-such-invitation")
    assert used.status_code == unknown.status_code == 404
    assert _same_page(
        used.get_data(as_text=True), unknown.get_data(as_text=True), (link[1], "no-such-invitation")
    )
    petro_id = account_id(app, "petro").hex
    admin_id = account_id(app, "anna").hex
    assert ("user_created", admin_id, petro_id) in actions(app)
    assert ("invite_sent", admin_id, petro_id) in actions(app)
    assert ("invite_accepted", petro_id, petro_id) in actions(app)


def test_the_invitation_token_is_kept_only_as_a_keyed_digest(
    app: Flask, admins: dict[str, Account]
) -> None:
    client, token = _signed_in(app, admins["kharkiv"])
    page = _new_account(client, token, username="petro", role="editor", region="saltivka")
    link = LINK.search(page)
    assert link is not None
    with db.get_database(app).session() as session:
        stored = session.scalars(select(Invite)).one()
        assert link[1].encode() not in stored.token_digest
        assert len(stored.token_digest) == 32


def test_an_invitation_expires_after_the_configured_hours(
    app: Flask, admins: dict[str, Account]
) -> None:
    client, token = _signed_in(app, admins["kharkiv"])
    link = LINK.search(
        _new_account(client, token, username="petro", role="editor", region="saltivka")
    )
    assert link is not None
    with db.get_database(app).session() as session:
        expires_at = session.scalars(select(Invite)).one().expires_at
        assert timedelta(hours=71) < expires_at - datetime.now(UTC) <= timedelta(hours=72)
        session.execute(update(Invite).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = app.test_client().get(f"/portal/invite/{link[1]}")
    unknown = app.test_client().get("/portal/invite/no-such-invitation")
    assert expired.status_code == 404
    assert _same_page(
        expired.get_data(as_text=True),
        unknown.get_data(as_text=True),
        (link[1], "no-such-invitation"),
    )


def test_a_new_invitation_kills_the_earlier_link(app: Flask, admins: dict[str, Account]) -> None:
    client, token = _signed_in(app, admins["kharkiv"])
    first = LINK.search(
        _new_account(client, token, username="petro", role="editor", region="saltivka")
    )
    assert first is not None
    target = account_id(app, "petro")
    second = LINK.search(
        client.post(f"/portal/accounts/{target}/invite", data={"csrf_token": token}).get_data(
            as_text=True
        )
    )
    assert second is not None
    assert app.test_client().get(f"/portal/invite/{first[1]}").status_code == 404
    assert app.test_client().get(f"/portal/invite/{second[1]}").status_code == 200


@pytest.mark.parametrize(
    "fields",
    [
        {"username": "far", "role": "editor", "region": "odesa"},  # a region outside its own
        {"username": "boss", "role": "admin"},  # an admin of everywhere
        {"username": "both", "role": "editor", "region": ["saltivka", "odesa"]},
        {"username": "ngo", "role": "caseworker", "region": "saltivka", "partner": "odesa"},
    ],
    ids=["outside", "everywhere", "partly-outside", "foreign-ngo"],
)
def test_an_admin_makes_no_account_reaching_beyond_its_own_scope(
    app: Flask, admins: dict[str, Account], fields: dict[str, object]
) -> None:
    client, token = _signed_in(app, admins["kharkiv"])
    before = len(actions(app))
    page = _new_account(client, token, **fields)
    assert "/portal/invite/" not in page
    assert 'class="error"' in page
    with db.get_database(app).session() as session:
        assert session.scalar(select(User).where(User.username == fields["username"])) is None
    assert len(actions(app)) == before


def test_a_bad_username_is_refused_with_a_clear_error_and_nothing_made(
    app: Flask, admins: dict[str, Account]
) -> None:
    client, token = _signed_in(app, admins["kharkiv"])
    before = len(actions(app))
    page = _new_account(
        client, token, username="no spaces allowed", role="editor", region="saltivka"
    )
    assert 'class="error"' in page
    assert "/portal/invite/" not in page
    assert len(actions(app)) == before


def test_the_audit_page_names_accounts_by_username(app: Flask, admins: dict[str, Account]) -> None:
    target, editor = fresh_account(app, "saltivka")
    client, token = _signed_in(app, admins["kharkiv"])
    client.post(f"/portal/accounts/{target}/disable", data={"csrf_token": token})
    page = client.get("/portal/audit").get_data(as_text=True)
    assert "Disabled an account" in page
    assert "user_disabled" in page  # the code the export writes, beside it
    assert "تعطيل حساب" in client.get("/portal/audit?lang=ar").get_data(as_text=True)
    assert editor.username in page
    assert "anna" in page
    assert target.hex not in page
    # The admin of Kharkiv sees nothing done by or to accounts outside it.
    _outside, stranger = fresh_account(app, "odesa")
    log_in(app.test_client(), stranger.username, stranger.password, stranger.code())
    assert stranger.username not in client.get("/portal/audit").get_data(as_text=True)
    assert stranger.username in _signed_in(app, admins["everywhere"])[0].get(
        "/portal/audit"
    ).get_data(as_text=True)


def test_the_forbidden_page_keeps_log_out_and_the_username_in_the_requests_language(
    app: Flask, admins: dict[str, Account]
) -> None:
    _id, editor = fresh_account(app, "kharkiv")
    client, _token = _signed_in(app, editor)
    refused = client.get("/portal/accounts?lang=ar")
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in page
    assert editor.username in page
    assert 'action="/portal/logout' in page
    assert "Log out" not in page  # said in Arabic
    assert 'href="/portal/?lang=ar"' in page  # back to the start, in Arabic still


def test_an_expired_form_of_a_signed_in_account_leads_back_not_to_the_login(
    app: Flask, admins: dict[str, Account]
) -> None:
    target, _editor = fresh_account(app, "saltivka")
    client, _token = _signed_in(app, admins["kharkiv"])
    response = client.post(f"/portal/accounts/{target}/disable", data={})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'name="password"' not in page  # not the login form
    assert f'href="/portal/accounts/{target}"' in page
    assert "anna" in page
    assert not user(app, _editor.username).disabled
    assert error_of(response) is None


def test_an_invitation_link_is_masked_in_every_log_line(app: Flask) -> None:
    add_ngo(app, "kharkiv", "Kharkiv Aid")
    _id, invited = fresh_account(app, "kharkiv")
    for _ in range(50):
        token = invite_token(app, invited.username)
        assert token not in logs.redact(f'"GET /portal/invite/{token} HTTP/1.1" 200')


def test_how_long_an_invitation_lasts_is_a_setting(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="REFUGE_INVITE_HOURS"):
        make_settings(REFUGE_INVITE_HOURS="0")
    with pytest.raises(ConfigError, match="REFUGE_INVITE_HOURS"):
        make_settings(REFUGE_INVITE_HOURS="a week")
    assert make_settings().invite_hours == 72
    app = create_app(make_settings(REFUGE_INVITE_HOURS="2"))
    db.Base.metadata.create_all(db.get_database(app).engine)
    add_ngo(app, "kharkiv", "Kharkiv Aid")
    admin = add_account(app, "anna", "kharkiv", Role.ADMIN)
    target, _editor = fresh_account(app, "kharkiv")
    client, token = _signed_in(app, admin)
    page = client.post(f"/portal/accounts/{target}/invite", data={"csrf_token": token})
    assert LINK.search(page.get_data(as_text=True)) is not None
    with db.get_database(app).session() as session:
        expires_at = session.scalars(select(Invite)).one().expires_at
    assert timedelta(hours=1) < expires_at - datetime.now(UTC) <= timedelta(hours=2)
    db.get_database(app).dispose()


def test_every_account_page_is_private_hardened_and_script_free(
    app: Flask, admins: dict[str, Account]
) -> None:
    target, editor = fresh_account(app, "saltivka")
    token = invite_token(app, editor.username)
    client, _csrf = _signed_in(app, admins["kharkiv"])
    pages = [
        client.get(path)
        for path in (
            "/portal/accounts",
            f"/portal/accounts/{target}",
            "/portal/accounts/new",
            "/portal/audit",
        )
    ]
    pages.append(app.test_client().get(f"/portal/invite/{token}"))
    for response in pages:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        page = response.get_data(as_text=True)
        assert '<meta name="robots" content="noindex, nofollow">' in page
        assert "<script" not in page
        assert not re.search(r'(src|href)="(https?:)?//', page)
