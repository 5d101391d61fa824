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

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from server.models.staff import Permission, Role
from server.portal.access import PUBLIC, RULE_ATTRIBUTE, SIGNED_IN
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


#: For each route whose URL names a record: a function making, in the world, the URL values of
#: a record inside the accounts' scope and of one outside it.
SAMPLES: dict[str, Callable[[World], tuple[dict[str, object], dict[str, object]]]] = {}
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
