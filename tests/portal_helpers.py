"""Helpers for the portal tests: two NGOs with note keys, their caseworkers, logging in."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from server import db, staff, vault
from server.models.content import Region, RegionKind
from server.models.staff import Role
from tests.checkin_helpers import add_partner

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ERROR = re.compile(r'<p class="error" role="alert">([^<]*)</p>')
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    """A portal account as its owner knows it: name, password and authenticator seed."""

    username: str
    password: str
    secret: bytes

    def code(self, at: float | None = None) -> str:
        """What the authenticator app shows now (or at `at`)."""
        return vault.totp_code(self.secret, time.time() if at is None else at)


@dataclass(frozen=True)
class Ngo:
    """A partner NGO: the region it serves, its offline private key, its note key."""

    region: str
    name: str
    private_pem: bytes
    public: bytes


def add_region(app: Flask, slug: str, parent: str | None = None) -> int:
    """A region `slug` (under `parent`), unless it exists; its id."""
    with db.get_database(app).session() as session:
        found = session.scalar(select(Region.id).where(Region.slug == slug))
        if found is not None:
            return found
        parent_id = (
            session.scalar(select(Region.id).where(Region.slug == parent)) if parent else None
        )
        region = Region(
            slug=slug,
            parent_id=parent_id,
            kind=RegionKind.SITE if parent else RegionKind.AREA,
            name=slug.title(),
            country_code="UA",
            timezone="Europe/Kyiv",
            default_locale="uk",
        )
        session.add(region)
        session.flush()
        return region.id


def add_ngo(app: Flask, region: str, name: str) -> Ngo:
    """Register an NGO with a fresh note key pair for `region` (made if missing)."""
    add_region(app, region)
    private_pem, public = vault.new_note_keypair()
    add_partner(app, region, name, None, public)
    return Ngo(region, name, private_pem, public)


def add_account(
    app: Flask,
    username: str,
    region: str,
    role: Role = Role.CASEWORKER,
    locales: tuple[str, ...] = ("uk",),
) -> Account:
    """A portal account working in `region` (of the NGO serving it, when the role has one)."""
    with db.get_database(app).session() as session:
        created = staff.create_user(
            session,
            username,
            PASSWORD,
            role,
            regions=() if role is Role.TRANSLATOR else (region,),
            locales=locales if role in {Role.TRANSLATOR, Role.REVIEWER} else (),
            partner=region if role in {Role.CASEWORKER, Role.ADMIN} else None,
        )
    return Account(created.user.username, PASSWORD, created.totp_secret)


def csrf_token(client: FlaskClient, path: str = "/portal/login") -> str:
    """The CSRF token of a portal form (the login form by default)."""
    page = client.get(path).get_data(as_text=True)
    found = TOKEN.search(page)
    assert found is not None, page
    return found[1]


def log_in(
    client: FlaskClient, username: str, password: str, code: str, query: str = ""
) -> TestResponse:
    """Post the login form as a browser would, token included."""
    token = csrf_token(client, f"/portal/login{query}")
    return client.post(
        f"/portal/login{query}",
        data={"csrf_token": token, "username": username, "password": password, "code": code},
    )


def error_of(response: TestResponse) -> str | None:
    """The error the login page shows, if any."""
    found = ERROR.search(response.get_data(as_text=True))
    return found[1] if found else None
