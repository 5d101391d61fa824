"""Editing content in the portal: drafts, two-person review, history and roll back.

An editor's bulletin is a draft nobody sees on the web, by SMS or in the API until a reviewer
who is not its author approves it; meanwhile the live version stays. Rejections carry a
reason; history says who changed what; rolling back is a new change, reviewed like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import db
from server.content import drafts
from server.content.kinds import BULLETIN, ORGANIZATION, RESOURCE
from server.conversation.library import Library
from server.models.bulletins import Bulletin, BulletinKind
from server.models.content import Organization, Region
from server.models.drafts import RecordVersion, VersionState
from server.models.staff import AuditEvent, Role, User
from server.portal import forms
from server.web import caching
from tests import content_samples
from tests.content_samples import NOW, portal_samples
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


def _signed_in(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, account.username, account.password, account.code()).status_code == 302
    return client


@pytest.fixture
def desk(app: Flask) -> Desk:
    add_region(app, "kharkiv")
    add_region(app, "saltivka", parent="kharkiv")
    add_region(app, "odesa")
    editor = add_account(app, "olena", "kharkiv", Role.EDITOR)
    reviewer = add_account(app, "petro", "kharkiv", Role.REVIEWER)
    second = add_account(app, "iryna", "kharkiv", Role.REVIEWER)
    return Desk(app, _signed_in(app, editor), _signed_in(app, reviewer), _signed_in(app, second))


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


def test_a_new_bulletin_is_invisible_until_another_person_approves_it(desk: Desk) -> None:
    response = desk.editor.post("/portal/bulletins/new", data=bulletin_form(desk, desk.editor))
    assert response.status_code == 302
    assert public_titles(desk.app) == {"web": [], "api": [], "sms": []}
    queue = desk.reviewer.get("/portal/review").get_data(as_text=True)
    assert TITLE in queue
    approve(desk, desk.reviewer, pending_id(desk.app))
    assert public_titles(desk.app) == {"web": [TITLE], "api": [TITLE], "sms": [TITLE]}


def test_a_change_waits_while_the_live_version_stays_visible(desk: Desk) -> None:
    desk.editor.post("/portal/bulletins/new", data=bulletin_form(desk, desk.editor))
    approve(desk, desk.reviewer, pending_id(desk.app))
    page = "/portal/bulletins/kharkiv-curfew"
    changed = bulletin_form(desk, desk.editor, title=NEW_TITLE)
    changed["csrf_token"] = desk.token(desk.editor, page)
    changed["base"] = base_of(desk.editor.get(page).get_data(as_text=True))
    assert desk.editor.post(page, data=changed).status_code == 302
    assert public_titles(desk.app) == {"web": [TITLE], "api": [TITLE], "sms": [TITLE]}
    queue = desk.reviewer.get("/portal/review").get_data(as_text=True)
    assert "<del>Curfew from 22:00 in Kharkiv</del>" in queue
    assert "<ins>Curfew from 23:00 in Kharkiv</ins>" in queue
    approve(desk, desk.second, pending_id(desk.app))
    assert public_titles(desk.app) == {"web": [NEW_TITLE], "api": [NEW_TITLE], "sms": [NEW_TITLE]}


def test_an_author_cannot_approve_their_own_draft(desk: Desk) -> None:
    form = bulletin_form(desk, desk.reviewer)
    assert desk.reviewer.post("/portal/bulletins/new", data=form).status_code == 302
    version_id = pending_id(desk.app)
    page = approve(desk, desk.reviewer, version_id)
    assert "another reviewer must approve it" in page
    assert public_titles(desk.app)["api"] == []
    approve(desk, desk.second, version_id)
    assert public_titles(desk.app)["api"] == [TITLE]


def test_a_rejected_draft_never_shows_and_its_author_reads_why(desk: Desk) -> None:
    desk.editor.post("/portal/bulletins/new", data=bulletin_form(desk, desk.editor))
    version_id = pending_id(desk.app)
    token = desk.token(desk.reviewer, "/portal/review")
    empty = desk.reviewer.post(
        f"/portal/review/{version_id}/reject",
        data={"csrf_token": token, "reason": " "},
        follow_redirects=True,
    )
    assert "Say why" in empty.get_data(as_text=True)
    desk.reviewer.post(
        f"/portal/review/{version_id}/reject",
        data={"csrf_token": token, "reason": "The council said 23:00, not 22:00."},
    )
    assert public_titles(desk.app)["api"] == []
    page = desk.editor.get("/portal/bulletins/kharkiv-curfew").get_data(as_text=True)
    assert "The council said 23:00, not 22:00." in page
    assert "rejected" in page
    assert "petro" in page


def test_history_names_who_changed_what_and_a_roll_back_is_reviewed(desk: Desk) -> None:
    desk.editor.post("/portal/bulletins/new", data=bulletin_form(desk, desk.editor))
    approve(desk, desk.reviewer, pending_id(desk.app))
    page = "/portal/bulletins/kharkiv-curfew"
    changed = bulletin_form(desk, desk.editor, title=NEW_TITLE)
    changed["csrf_token"] = desk.token(desk.editor, page)
    changed["base"] = base_of(desk.editor.get(page).get_data(as_text=True))
    desk.editor.post(page, data=changed)
    approve(desk, desk.reviewer, pending_id(desk.app))
    history = desk.editor.get(page).get_data(as_text=True)
    assert history.count("olena") >= 2
    assert "reviewed by petro" in history
    assert "<ins>Curfew from 23:00 in Kharkiv</ins>" in history
    with db.get_database(desk.app).session() as session:
        first = session.scalars(select(RecordVersion).order_by(RecordVersion.id)).first()
        assert first is not None
        first_id = first.id
    token = desk.token(desk.editor, page)
    response = desk.editor.post(f"{page}/rollback/{first_id}", data={"csrf_token": token})
    assert response.status_code == 302
    assert public_titles(desk.app)["api"] == [NEW_TITLE]
    approve(desk, desk.second, pending_id(desk.app))
    assert public_titles(desk.app)["api"] == [TITLE]
    with db.get_database(desk.app).session() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions.count("content_drafted") == 2
    assert actions.count("content_approved") == 3
    assert actions.count("content_rolled_back") == 1


def test_an_edit_made_from_an_older_live_version_is_refused(desk: Desk) -> None:
    desk.editor.post("/portal/bulletins/new", data=bulletin_form(desk, desk.editor))
    approve(desk, desk.reviewer, pending_id(desk.app))
    page = "/portal/bulletins/kharkiv-curfew"
    stale = bulletin_form(desk, desk.editor, title=NEW_TITLE, base="0" * 64)
    stale["csrf_token"] = desk.token(desk.editor, page)
    response = desk.editor.post(page, data=stale)
    assert response.status_code == 200
    assert "changed while you were editing it" in response.get_data(as_text=True)


def test_a_form_with_problems_saves_nothing_and_says_what(desk: Desk) -> None:
    form = bulletin_form(desk, desk.editor, body="", expires_at="tomorrow", regions=["odesa"])
    response = desk.editor.post("/portal/bulletins/new", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "expires_at: must be a time like 2026-11-20T08:00:00Z" in page
    assert "The text is empty." in page
    french = desk.editor.post("/portal/bulletins/new?lang=fr", data=form).get_data(as_text=True)
    assert "Le texte est vide." in french
    with db.get_database(desk.app).session() as session:
        assert session.scalars(select(RecordVersion)).all() == []


def test_a_bulletin_may_name_only_regions_of_the_editors_scope(desk: Desk) -> None:
    form = bulletin_form(desk, desk.editor, regions=["kharkiv", "odesa"])
    response = desk.editor.post("/portal/bulletins/new", data=form)
    assert response.status_code == 200
    assert "Outside the regions you work in: odesa" in response.get_data(as_text=True)


def test_preview_shows_the_sanitised_web_text_and_the_sms_with_its_segments(desk: Desk) -> None:
    form = bulletin_form(desk, desk.editor, action="preview")
    response = desk.editor.post("/portal/bulletins/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>22:00</strong>" in page
    assert "By SMS: 1 segment (GSM-7)" in page
    assert "ADVICE: Curfew from 22:00 in Kharkiv" in page
    with db.get_database(desk.app).session() as session:
        assert session.scalars(select(RecordVersion)).all() == []


def _resource(app: Flask, review: bool | None) -> None:
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


def test_mark_verified_today_goes_live_at_once_where_resources_need_no_review(desk: Desk) -> None:
    _resource(desk.app, None)
    listing = desk.editor.get("/portal/resources/").get_data(as_text=True)
    assert "needs re-verification" in listing
    page = "/portal/resources/kharkiv-clinic"
    token = desk.token(desk.editor, page)
    assert desk.editor.post(f"{page}/verify", data={"csrf_token": token}).status_code == 302
    with db.get_database(desk.app).session() as session:
        form = drafts.live_form(session, RESOURCE, "kharkiv-clinic")
        assert form is not None
        assert form["verified_on"] == datetime.now(UTC).date()
        assert form["verified_by"] == "olena"


def test_a_region_that_reviews_resources_holds_an_editors_change(desk: Desk) -> None:
    _resource(desk.app, True)  # set on Kharkiv, inherited by Saltivka
    page = "/portal/resources/kharkiv-clinic"
    token = desk.token(desk.editor, page)
    desk.editor.post(f"{page}/verify", data={"csrf_token": token})
    with db.get_database(desk.app).session() as session:
        form = drafts.live_form(session, RESOURCE, "kharkiv-clinic")
        assert form is not None
        assert form["verified_by"] == "Kharkiv Aid"
    approve(desk, desk.reviewer, pending_id(desk.app))
    with db.get_database(desk.app).session() as session:
        form = drafts.live_form(session, RESOURCE, "kharkiv-clinic")
        assert form is not None
        assert form["verified_by"] == "olena"


def test_a_bulletin_outside_the_scope_answers_404(desk: Desk, app: Flask) -> None:
    with db.get_database(app).session() as session:
        odesa = session.scalar(select(Region).where(Region.slug == "odesa"))
        session.add(
            Bulletin(
                id="odesa-port",
                kind=BulletinKind.ADVISORY,
                title="Port closed",
                body="Closed.",
                source_name="Port",
                issued_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
                regions=[odesa],
            )
        )
    assert desk.editor.get("/portal/bulletins/odesa-port").status_code == 404
    assert desk.editor.get("/portal/bulletins/no-such-thing").status_code == 404
    assert "odesa-port" not in desk.editor.get("/portal/bulletins/").get_data(as_text=True)


def test_a_phone_id_another_resource_uses_is_refused_clearly(desk: Desk) -> None:
    _resource(desk.app, None)
    yaml_phones = "- id: main\n  number: +44 7700 900124\n  kind: voice\n"
    form = {
        "csrf_token": desk.token(desk.editor, "/portal/resources/new"),
        "id": "second-clinic",
        "name": "Second clinic",
        "region": "kharkiv",
        "organization": "kharkiv-aid",
        "categories": ["medical"],
        "status": "active",
        "verified_on": "2026-12-01",
        "verified_by": "Kharkiv Aid",
        "review_interval_days": "30",
        "phones": yaml_phones,
        "action": "save",
    }
    response = desk.editor.post("/portal/resources/new", data=form)
    assert response.status_code == 200
    assert "Already used by another record: main" in response.get_data(as_text=True)
    form["phones"] = yaml_phones.replace("id: main", "id: second-main")
    assert desk.editor.post("/portal/resources/new", data=form).status_code == 302
    with db.get_database(desk.app).session() as session:
        created = drafts.live_form(session, RESOURCE, "second-clinic")
    assert created is not None
    assert created["phones"][0]["number"] == "+44 7700 900124"


def test_every_content_post_without_its_csrf_token_is_refused_and_changes_nothing(
    desk: Desk,
) -> None:
    samples = portal_samples()
    world = SimpleNamespace(app=desk.app)
    adapter = desk.app.url_map.bind("localhost")
    posts = [
        rule
        for rule in desk.app.url_map.iter_rules()
        if rule.endpoint.startswith("portal.")
        and "POST" in (rule.methods or ())
        and (rule.endpoint in samples or rule.endpoint.endswith("_new"))
    ]
    assert len(posts) == 2 + 1 + 5 * 3  # approve, reject, verify; each kind: new, record, rollback
    for rule in posts:
        values = samples[rule.endpoint](world)[0] if rule.endpoint in samples else {}
        with db.get_database(desk.app).session() as session:
            before = session.scalars(select(RecordVersion.id)).all()
        url = adapter.build(rule.endpoint, values, method="POST")
        data = bulletin_form(desk, desk.reviewer) | {"reason": "No."}
        del data["csrf_token"]
        response = desk.reviewer.post(url, data=data)
        assert response.status_code == 400, url
        with db.get_database(desk.app).session() as session:
            assert session.scalars(select(RecordVersion.id)).all() == before, url


@pytest.mark.parametrize(
    ("tag", "direction", "word"), [("ar", "rtl", "حفظ"), ("my", "ltr", "သိမ်းရန်")]
)
def test_the_edit_pages_speak_arabic_right_to_left_and_burmese(
    desk: Desk, tag: str, direction: str, word: str
) -> None:
    page = desk.editor.get(f"/portal/bulletins/new?lang={tag}").get_data(as_text=True)
    assert f'<html lang="{tag}" dir="{direction}">' in page
    assert word in page
    # The format's field names stay as the files write them, left to right.
    assert '<code dir="ltr">issued_at</code>' in page


def test_a_bulletin_for_several_regions_needs_a_reviewer_of_each(desk: Desk) -> None:
    form = content_samples.bulletin("kharkiv", regions=["kharkiv", "odesa"])
    version_id = content_samples.draft(desk.app, BULLETIN, form)
    assert form["title"] in desk.reviewer.get("/portal/review").get_data(as_text=True)
    page = approve(desk, desk.reviewer, version_id)
    assert "Only a reviewer of every region it names may approve it." in page
    with db.get_database(desk.app).session() as session:
        assert drafts.live_row(session, BULLETIN, form["id"]) is None


def test_the_first_portal_change_to_a_loaded_record_keeps_what_was_live(desk: Desk) -> None:
    form = content_samples.bulletin("kharkiv", title=TITLE)
    # As `refuge content load` writes a file's record: no version of it exists.
    with db.get_database(desk.app).session() as session, session.no_autoflush:
        BULLETIN.apply(session, form, None, content_samples.NOW).origin = "files"
    page = f"/portal/bulletins/{form['id']}"
    changed = bulletin_form(desk, desk.editor, id=form["id"], title=NEW_TITLE)
    changed["csrf_token"] = desk.token(desk.editor, page)
    changed["base"] = base_of(desk.editor.get(page).get_data(as_text=True))
    assert desk.editor.post(page, data=changed).status_code == 302
    approve(desk, desk.reviewer, pending_id(desk.app))
    history = desk.editor.get(page).get_data(as_text=True)
    assert f"<del>{TITLE}</del>" in history
    assert f"<ins>{NEW_TITLE}</ins>" in history
    with db.get_database(desk.app).session() as session:
        baseline = session.scalars(select(RecordVersion).order_by(RecordVersion.id)).first()
        assert baseline is not None
        assert (baseline.origin, baseline.state) == ("files", VersionState.APPROVED)
        baseline_id = baseline.id
    token = desk.token(desk.editor, page)
    desk.editor.post(f"{page}/rollback/{baseline_id}", data={"csrf_token": token})
    approve(desk, desk.second, pending_id(desk.app))
    with db.get_database(desk.app).session() as session:
        live = drafts.live_form(session, BULLETIN, form["id"])
    assert live is not None
    assert live["title"] == TITLE


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


def test_a_checklist_is_written_with_its_steps_as_the_file_writes_them(desk: Desk) -> None:
    too_long = "- id: pin\n  title: Set a PIN\n  web: Open **Settings**.\n  sms: " + "x" * 200
    response = desk.editor.post("/portal/checklists/new", data=checklist_form(desk, too_long))
    problems = response.get_data(as_text=True)
    assert "must fit one SMS of plain (GSM-7) characters" in problems
    assert "unknown field" not in problems
    broken = desk.editor.post("/portal/checklists/new", data=checklist_form(desk, "- id: [pin"))
    assert "This YAML cannot be read." in broken.get_data(as_text=True)
    steps = "- id: pin\n  title: Set a PIN\n  web: Open **Settings**.\n  sms: Set a PIN."
    saved = desk.editor.post("/portal/checklists/new", data=checklist_form(desk, steps))
    assert saved.status_code == 302
    approve(desk, desk.reviewer, pending_id(desk.app))
    secure = desk.app.test_client().get("/en/secure/lock-phone")
    assert secure.status_code == 200
    assert "<strong>Settings</strong>" in secure.get_data(as_text=True)
    form = desk.editor.get("/portal/checklists/lock-phone").get_data(as_text=True)
    assert "sms: Set a PIN." in form


def test_an_organisation_without_review_goes_live_at_once_and_is_audited(desk: Desk) -> None:
    form = {
        "csrf_token": desk.token(desk.editor, "/portal/organizations/new"),
        "id": "kharkiv-legal",
        "name": "Kharkiv Legal Aid",
        "description": "Free advice on *documents*.",
        "website": "https://legal.example.org",
        "action": "save",
    }
    assert desk.editor.post("/portal/organizations/new", data=form).status_code == 302
    with db.get_database(desk.app).session() as session:
        live = drafts.live_form(session, ORGANIZATION, "kharkiv-legal")
        actions = session.scalars(select(AuditEvent.action)).all()
    assert live is not None
    assert live["name"] == "Kharkiv Legal Aid"
    assert "content_changed" in actions


def test_a_context_note_answers_rumours_by_sms_only_once_approved(desk: Desk) -> None:
    rumour = "the aid water is poisoned"
    form = {
        "csrf_token": desk.token(desk.editor, "/portal/context/new"),
        "id": "water-rumour",
        "title": "The aid water is safe",
        "body": "People say the aid water is poisoned.\n\nIt was tested on Monday: it is safe.",
        "status": "published",
        "severity": "unknown",
        "regions": ["kharkiv"],
        "source_name": "Kharkiv Water Board",
        "issued_at": (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "match_phrases": f"- locale: en\n  phrase: {rumour}\n",
        "action": "save",
    }
    assert desk.editor.post("/portal/context/new", data=form).status_code == 302

    def answers() -> list[str]:
        now = datetime.now(UTC)
        with db.get_database(desk.app).session() as session:
            shelf = Library(session, settings_of(desk.app).localization, now.date())
            return [note.title for note in shelf.context_notes(rumour, "kharkiv", "en", now)]

    assert answers() == []
    assert desk.editor.get("/portal/bulletins/water-rumour").status_code == 404
    approve(desk, desk.reviewer, pending_id(desk.app))
    assert answers() == ["The aid water is safe"]


def test_a_draft_made_from_a_version_no_longer_live_must_be_redone(desk: Desk) -> None:
    form = content_samples.bulletin("kharkiv", title=TITLE)
    content_samples.live(desk.app, BULLETIN, form)
    with db.get_database(desk.app).session() as session:
        authors = {row.username: row.id for row in session.execute(select(User.username, User.id))}
        first, second = (
            drafts.propose(
                session, BULLETIN, form | {"title": title}, author=authors[name], now=NOW
            ).id
            for name, title in (("olena", NEW_TITLE), ("iryna", "Curfew lifted"))
        )
    approve(desk, desk.reviewer, first)
    page = approve(desk, desk.reviewer, second)
    assert "ask for it to be redone" in page
    with db.get_database(desk.app).session() as session:
        live = drafts.live_form(session, BULLETIN, form["id"])
        waiting = session.get(RecordVersion, second)
        assert waiting is not None
        assert waiting.state is VersionState.DRAFT
    assert live is not None
    assert live["title"] == NEW_TITLE


def test_resources_due_for_re_verification_are_listed_first(desk: Desk) -> None:
    fresh = content_samples.resource(
        desk.app, "kharkiv", id="a-fresh-clinic", verified_on=datetime.now(UTC).date()
    )
    stale = content_samples.resource(
        desk.app, "kharkiv", id="z-stale-clinic", verified_on=datetime(2025, 1, 1).date()
    )
    for form in (fresh, stale):
        content_samples.live(desk.app, RESOURCE, form)
    listing = desk.editor.get("/portal/resources/").get_data(as_text=True)
    assert listing.index("z-stale-clinic") < listing.index("a-fresh-clinic")
    only_stale = desk.editor.get("/portal/resources/?status=stale").get_data(as_text=True)
    assert "z-stale-clinic" in only_stale
    assert "a-fresh-clinic" not in only_stale


def test_a_field_longer_than_the_database_holds_is_refused_clearly(desk: Desk) -> None:
    form = bulletin_form(desk, desk.editor, title="Curfew " * 40, source_name="Council " * 30)
    response = desk.editor.post("/portal/bulletins/new", data=form)
    assert response.status_code == 200
    assert "Too long: source_name, title" in response.get_data(as_text=True)
    with db.get_database(desk.app).session() as session:
        assert session.scalars(select(RecordVersion)).all() == []


def test_a_draft_naming_a_region_retired_since_cannot_be_approved(desk: Desk) -> None:
    form = content_samples.bulletin("saltivka")
    version_id = content_samples.draft(desk.app, BULLETIN, form)
    with db.get_database(desk.app).session() as session:
        region = session.scalar(select(Region).where(Region.slug == "saltivka"))
        assert region is not None
        region.retired = True
    page = approve(desk, desk.reviewer, version_id)
    assert "is gone: ask for it to be redone" in page
    with db.get_database(desk.app).session() as session:
        assert drafts.live_row(session, BULLETIN, form["id"]) is None


NASTY = (
    "",
    " ",
    "\x00",
    "x\x00y",
    "9" * 5000,
    "[",
    "- a",
    "{a: [",
    "- id: [x\n",
    "&a [*a, *a]",
    "2026-13-45",
    "-1",
    "true",
    "<script>alert(1)</script>",
    "\u202eevil",
    "١٢٣",
)


@pytest.mark.parametrize(
    "slug", ["bulletins", "context", "resources", "organizations", "checklists"]
)
def test_any_text_in_every_field_gets_an_answer_never_an_error(desk: Desk, slug: str) -> None:
    editable = forms.editable(slug)
    for value in NASTY:
        data: dict[str, object] = {"csrf_token": desk.token(desk.editor, f"/portal/{slug}/new")}
        for field in editable.fields:
            data[field.name] = [value] if field.widget is forms.Widget.CHOICES else value
        for action in ("preview", "save"):
            response = desk.editor.post(f"/portal/{slug}/new", data=data | {"action": action})
            assert response.status_code in {200, 302}, (slug, value, action)
