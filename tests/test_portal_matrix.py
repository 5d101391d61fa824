"""The portal's authorization matrix, generated from the route map: every route x every role.

A new portal route fails here until it carries a rule (`server.portal.access`), and, when its
URL names a record, until `SAMPLES` says how to make one inside the account's scope and one
outside it. Then, for every role and for a visitor without a session: a role without the
route's permission gets 403, a role with it gets the page (or is sent on), the record outside
its scope answers 404 exactly as one that does not exist, and a visitor is sent to log in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

from server import db
from server.db import Base
from server.models.checkins import CheckinPartner, PartnerNoteKey, SealedNote
from server.models.staff import Permission, Role
from server.portal.access import PUBLIC, RULE_ATTRIBUTE, SIGNED_IN
from tests.account_helpers import fresh_account, invite_token
from tests.checkin_helpers import Clock, Phone, register
from tests.content_samples import portal_samples
from tests.portal_helpers import (
    TOKEN,
    Account,
    add_account,
    add_ngo,
    add_region,
    csrf_token,
    log_in,
)

#: Where each role's account works: Kharkiv (with a site under it); Odesa is out of scope.
HOME, ELSEWHERE = "kharkiv", "odesa"


@dataclass(frozen=True)
class World:
    """Two regions, an NGO in each, and one account of every role working in Kharkiv."""

    app: Flask
    accounts: dict[Role, Account]


def _note_ids(world: World) -> tuple[dict[str, object], dict[str, object]]:
    """A note sent to the Kharkiv NGO (the caseworker's) and one sent to Odesa's."""
    clock = Clock(datetime.now(UTC))
    for number, region in (("+44 7700 900851", HOME), ("+44 7700 900852", ELSEWHERE)):
        register(world.app, number, "en", region)
        assert "sealed" in Phone(world.app, number, clock).ask(f"NOTE Seen near {region}.")
    with db.get_database(world.app).session() as session:
        ids = {
            partner.region_slug: note.id.hex
            for note, partner in session.execute(
                select(SealedNote, CheckinPartner)
                .join(PartnerNoteKey, PartnerNoteKey.fingerprint == SealedNote.recipient)
                .join(CheckinPartner, CheckinPartner.id == PartnerNoteKey.partner_id)
            )
        }
    return {"note_id": ids[HOME]}, {"note_id": ids[ELSEWHERE]}


#: For each route whose URL names a record: a function making, in the world, the URL values of
#: a record inside the accounts' scope and of one outside it.
SAMPLES: dict[str, Callable[[World], tuple[dict[str, object], dict[str, object]]]] = {
    "portal.handled": _note_ids,
}


def _translation_locales(world: World) -> tuple[dict[str, object], dict[str, object]]:
    # Translators and reviewers work in uk; an admin in every configured locale, so the locale
    # outside every scope is one the instance does not serve (test_portal_translate.py shows
    # that another translator's locale answers the same 404).
    return {"language": "uk", "catalogue": "ui"}, {"language": "de", "catalogue": "ui"}


#: The translator's workspace names a locale.
TRANSLATE_ROUTES = (
    "portal.translate",
    "portal.translate_save",
    "portal.translate_review",
    "portal.translate_download",
    "portal.translate_upload",
)
SAMPLES.update(dict.fromkeys(TRANSLATE_ROUTES, _translation_locales))


def _accounts(world: World) -> tuple[dict[str, object], dict[str, object]]:
    """An account under Kharkiv (in scope) and one in Odesa (outside it)."""
    inside, _account = fresh_account(world.app, "saltivka")
    outside, _account = fresh_account(world.app, ELSEWHERE)
    return {"account_id": inside}, {"account_id": outside}


def _invitation(world: World) -> tuple[dict[str, object], dict[str, object]]:
    """A live invitation's token, and one nobody made (public: the same page either way)."""
    _id, invited = fresh_account(world.app, HOME)
    return {"token": invite_token(world.app, invited.username)}, {"token": "not-a-token"}


for _endpoint in (
    "portal.account_view",
    "portal.account_disable",
    "portal.account_enable",
    "portal.account_unlock",
    "portal.account_reset_totp",
    "portal.account_invite",
):
    SAMPLES[_endpoint] = _accounts
SAMPLES["portal.invite"] = _invitation
SAMPLES.update(portal_samples())  # content pages and the review queue


def portal_rules(app: Flask) -> list[Rule]:
    """Every portal route of the app."""
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("portal.")),
        key=lambda rule: rule.rule,
    )


def methods(rule: Rule) -> list[str]:
    """The methods a route answers, without the ones Werkzeug adds."""
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


@pytest.fixture
def world(app: Flask) -> World:
    add_ngo(app, HOME, "Kharkiv Aid")
    add_region(app, "saltivka", parent=HOME)
    add_ngo(app, ELSEWHERE, "Odesa Aid")
    accounts = {role: add_account(app, f"{role.value}-1", HOME, role) for role in Role}
    return World(app, accounts)


def test_every_portal_route_has_a_rule(app: Flask) -> None:
    missing = [
        rule.endpoint
        for rule in portal_rules(app)
        if getattr(app.view_functions[rule.endpoint], RULE_ATTRIBUTE, None) is None
    ]
    assert missing == [], "portal routes without an access rule"


def test_every_route_naming_a_record_has_samples_in_and_out_of_scope(app: Flask) -> None:
    missing = [rule.endpoint for rule in portal_rules(app) if rule.arguments - {"lang"}]
    assert [endpoint for endpoint in missing if endpoint not in SAMPLES] == []


def _visit(client: FlaskClient, method: str, url: str, token: str | None) -> int:
    if method == "GET":
        return client.get(url).status_code
    return client.post(url, data={"csrf_token": token} if token else {}).status_code


def _routes(world: World) -> list[tuple[Rule, str, str, str | None]]:
    """(rule, method, URL in scope, URL out of scope) for every portal route to try."""
    adapter = world.app.url_map.bind("localhost")
    found = []
    for rule in portal_rules(world.app):
        if getattr(world.app.view_functions[rule.endpoint], RULE_ATTRIBUTE) == PUBLIC:
            continue  # the login form and logging out: anyone's, tried in test_portal.py
        inside, outside = SAMPLES[rule.endpoint](world) if rule.endpoint in SAMPLES else ({}, None)
        for method in methods(rule):
            url_in = adapter.build(rule.endpoint, inside, method=method)
            url_out = (
                adapter.build(rule.endpoint, outside, method=method)
                if outside is not None
                else None
            )
            found.append((rule, method, url_in, url_out))
    return found


def test_a_visitor_without_a_session_is_sent_to_log_in_everywhere(world: World) -> None:
    client = world.app.test_client()
    token = csrf_token(client)
    for _rule, method, url, _outside in _routes(world):
        response = (
            client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
        )
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].split("?")[0].endswith("/portal/login"), url


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_each_role_reaches_what_its_permissions_allow_and_only_in_its_scope(
    world: World, role: Role
) -> None:
    client = world.app.test_client()
    account = world.accounts[role]
    assert log_in(client, account.username, account.password, account.code()).status_code == 302
    # Every signed-in page carries the log-out form, and with it the session's CSRF token.
    page = client.get("/portal/", follow_redirects=True).get_data(as_text=True)
    token = TOKEN.search(page)[1]  # type: ignore[index]
    for rule, method, url, outside in _routes(world):
        needed = getattr(world.app.view_functions[rule.endpoint], RULE_ATTRIBUTE)
        allowed = needed == SIGNED_IN or (
            isinstance(needed, Permission) and needed in role.permissions
        )
        status = _visit(client, method, url, token)
        if not allowed:
            assert status == 403, (role, method, url)
            continue
        assert status in {200, 302, 303}, (role, method, url, status)
        if outside is not None:
            assert _visit(client, method, outside, token) == 404, (role, method, outside)


def _every_row(app: Flask) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to compare before and after a request."""
    with db.get_database(app).session() as session:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in session.execute(table.select())), key=repr
            )
            for table in Base.metadata.sorted_tables
        }


def test_every_mutating_route_refuses_a_request_without_its_csrf_token(world: World) -> None:
    client = world.app.test_client()
    admin = world.accounts[Role.ADMIN]  # may do everything: only the missing token stops it
    assert log_in(client, admin.username, admin.password, admin.code()).status_code == 302
    adapter = world.app.url_map.bind("localhost")
    posted = []
    for rule in portal_rules(world.app):
        if "POST" not in methods(rule):
            continue
        inside, _outside = SAMPLES[rule.endpoint](world) if rule.endpoint in SAMPLES else ({}, {})
        url = adapter.build(rule.endpoint, inside, method="POST")
        before = _every_row(world.app)
        response = client.post(url, data={})
        assert response.status_code == 400, url
        assert _every_row(world.app) == before, url
        posted.append(rule.endpoint)
    assert {"portal.logout", "portal.account_disable", "portal.invite"} <= set(posted)
