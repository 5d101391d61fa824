"""The portal's content pages as their people use them, for the portal's content tests: an
editor and two reviewers of Kharkiv, each signed in, and what the public sees."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import db
from server.content import drafts
from server.content.kinds import RESOURCE
from server.conversation.library import Library
from server.models.content import Organization, Region
from server.models.drafts import RecordVersion, VersionState
from server.models.staff import Role
from server.web import caching
from tests.portal_helpers import TOKEN, Account, add_account, add_region, log_in
from tests.sms_helpers import settings_of

TITLE = "Curfew from 22:00 in Kharkiv"
NEW_TITLE = "Curfew from 23:00 in Kharkiv"


@dataclass
class Desk:
    """The portal as its people use it: an editor and two reviewers of Kharkiv."""

    app: Flask
    editor: FlaskClient
    reviewer: FlaskClient
    second: FlaskClient

    def token(self, client: FlaskClient, path: str = "/portal/") -> str:
        page = client.get(path, follow_redirects=True).get_data(as_text=True)
        found = TOKEN.search(page)
        assert found is not None, page
        return found[1]


def signed_in(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, account.username, account.password, account.code()).status_code == 302
    return client


def open_desk(app: Flask) -> Desk:
    """Kharkiv and Odesa, and an editor and two reviewers of Kharkiv, each signed in."""
    add_region(app, "kharkiv")
    add_region(app, "saltivka", parent="kharkiv")
    add_region(app, "odesa")
    editor = add_account(app, "olena", "kharkiv", Role.EDITOR)
    reviewer = add_account(app, "petro", "kharkiv", Role.REVIEWER)
    second = add_account(app, "iryna", "kharkiv", Role.REVIEWER)
    return Desk(app, signed_in(app, editor), signed_in(app, reviewer), signed_in(app, second))


def bulletin_form(desk: Desk, client: FlaskClient, **changes: object) -> dict[str, object]:
    now = datetime.now(UTC)
    form: dict[str, object] = {
        "csrf_token": desk.token(client, "/portal/bulletins/new"),
        "id": "kharkiv-curfew",
        "kind": "advisory",
        "title": TITLE,
        "body": "Stay inside from **22:00** to 05:00.",
        "status": "published",
        "severity": "moderate",
        "regions": ["kharkiv"],
        "source_name": "Kharkiv City Council",
        "issued_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "action": "save",
    }
    form.update(changes)
    return form


def base_of(page: str) -> str:
    """The digest of the live version an edit form was made from."""
    found = re.search(r'name="base" value="([0-9a-f]*)"', page)
    assert found is not None
    return found[1]


def pending_id(app: Flask) -> int:
    with db.get_database(app).session() as session:
        found = session.scalars(
            select(RecordVersion.id).where(RecordVersion.state == VersionState.DRAFT)
        ).all()
        assert len(found) == 1, found
        return found[0]


def approve(desk: Desk, client: FlaskClient, version_id: int) -> str:
    token = desk.token(client, "/portal/review")
    response = client.post(
        f"/portal/review/{version_id}/approve", data={"csrf_token": token}, follow_redirects=True
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def public_titles(app: Flask) -> dict[str, list[str]]:
    """What the public sees of Kharkiv's bulletins on the web, in the API and by SMS."""
    # A fresh page cache: its key is the content's last change to the second, and these
    # tests change content within one second of reading it.
    caching.init_app(app)
    client = app.test_client()
    web = client.get("/en/info?region=kharkiv").get_data(as_text=True)
    api = client.get("/api/v1/bulletins?region=kharkiv").get_json()
    now = datetime.now(UTC)
    with db.get_database(app).session() as session:
        shelf = Library(session, settings_of(app).localization, now.date())
        sms = [line.title for line in shelf.bulletins("kharkiv", "en", now)]
    return {
        "web": [title for title in (TITLE, NEW_TITLE) if title in web],
        "api": [item["title"] for item in api["items"]],
        "sms": sms,
    }


def add_clinic(app: Flask, review: bool | None) -> None:
    """A live clinic in Saltivka, under Kharkiv, whose review setting is `review`."""
    with db.get_database(app).session() as session:
        region = session.scalar(select(Region).where(Region.slug == "kharkiv"))
        assert region is not None
        region.review_resources = review
        session.add(Organization(id="kharkiv-aid", name="Kharkiv Aid", description=""))
        session.flush()
        form = {
            "id": "kharkiv-clinic",
            "organization": "kharkiv-aid",
            "region": "saltivka",
            "name": "Saltivka clinic",
            "alternate_name": None,
            "description": "Open to everyone.",
            "categories": ["medical"],
            "languages": ["uk"],
            "status": "active",
            "status_note": None,
            "verified_on": datetime(2026, 1, 5).date(),
            "verified_by": "Kharkiv Aid",
            "review_interval_days": 30,
            "url": None,
            "email": None,
            "sample": False,
            "locale": "en",
            "phones": [
                {"id": "main", "number": "+44 7700 900123", "kind": "voice", "description": None}
            ],
            "locations": [],
            "schedules": [],
        }
        drafts.propose(session, RESOURCE, form, author=None, now=datetime.now(UTC), review=False)


def checklist_form(desk: Desk, steps: str) -> dict[str, object]:
    return {
        "csrf_token": desk.token(desk.editor, "/portal/checklists/new"),
        "id": "lock-phone",
        "title": "Lock your phone",
        "summary": "Two minutes, once.",
        "platform": "Android",
        "platform_version": "14",
        "reviewed_on": "2026-12-01",
        "position": "3",
        "steps": steps,
        "action": "save",
    }
