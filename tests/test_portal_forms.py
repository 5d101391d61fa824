"""The portal's edit forms: named as the content format, read by the loader's parsers, so a
form accepts what a file accepts; problems said plainly in the editor's language, nothing
saved; any text in any field answered, never an error; previews as published; CSRF refused."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import select

from server import db
from server.content import drafts
from server.content.kinds import ORGANIZATION, RESOURCE
from server.models.drafts import RecordVersion
from server.models.staff import AuditEvent
from server.portal import forms
from tests import content_samples
from tests.content_samples import portal_samples
from tests.portal_desk import (
    Desk,
    add_clinic,
    approve,
    bulletin_form,
    checklist_form,
    open_desk,
    pending_id,
)


@pytest.fixture
def desk(app: Flask) -> Desk:
    return open_desk(app)


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


def test_a_phone_id_another_resource_uses_is_refused_clearly(desk: Desk) -> None:
    add_clinic(desk.app, None)
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
    new_pages = {f"portal.{each.slug}_new" for each in forms.EDITABLES}  # not /portal/accounts/new
    posts = [
        rule
        for rule in desk.app.url_map.iter_rules()
        if rule.endpoint.startswith("portal.")
        and "POST" in (rule.methods or ())
        and (rule.endpoint in samples or rule.endpoint in new_pages)
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


def test_mark_verified_today_goes_live_at_once_where_resources_need_no_review(desk: Desk) -> None:
    add_clinic(desk.app, None)
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
