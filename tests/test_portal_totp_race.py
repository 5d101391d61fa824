"""One TOTP code logs in once, even when two logins with it arrive at the same moment (on
SQLite, which ignores the row lock the login reads under, as on PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from tests.portal_helpers import add_account, add_ngo, csrf_token

RACERS = 4


def test_the_same_code_raced_by_concurrent_logins_signs_in_once(app: Flask) -> None:
    add_ngo(app, "kharkiv", "Kharkiv Aid")
    olena = add_account(app, "Olena.K", "kharkiv")
    clients = [app.test_client() for _ in range(RACERS)]
    tokens = [csrf_token(client) for client in clients]
    code = olena.code()
    start = threading.Barrier(RACERS)

    def log_in(index: int) -> int:
        form = {
            "csrf_token": tokens[index],
            "username": olena.username,
            "password": olena.password,
            "code": code,
        }
        start.wait()
        return clients[index].post("/portal/login", data=form).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        statuses = sorted(pool.map(log_in, range(RACERS)))
    assert statuses.count(302) == 1, statuses
    assert 500 not in statuses
