"""Editing content in the portal: drafts, two-person review, history and roll back.

An editor's bulletin is a draft nobody sees on the web, by SMS or in the API until a reviewer
who is not its author approves it; meanwhile the live version stays. Rejections carry a
reason; history says who changed what; rolling back is a new change, reviewed like any other.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from server import db
from server.content import drafts
from server.content.cap import parse_cap
from server.content.cap_import import import_cap
from server.content.kinds import BULLETIN, RESOURCE
from server.conversation.library import Library
from server.models.bulletins import Bulletin, BulletinKind
from server.models.content import Region
from server.models.drafts import RecordVersion, VersionState
from server.models.staff import AuditEvent, User
from tests import content_samples
from tests.content_samples import NOW
from tests.portal_desk import (
    NEW_TITLE,
    TITLE,
    Desk,
    add_clinic,
    approve,
    base_of,
    bulletin_form,
    open_desk,
    pending_id,
    public_titles,
)
from tests.sms_helpers import settings_of
from tests.test_cap import fixture as cap_fixture


@pytest.fixture
def desk(app: Flask) -> Desk:
    return open_desk(app)


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


def test_a_region_that_reviews_resources_holds_an_editors_change(desk: Desk) -> None:
    add_clinic(desk.app, True)  # set on Kharkiv, inherited by Saltivka
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


def test_a_cap_update_waits_in_the_portal_queue_and_a_reviewer_publishes_it(desk: Desk) -> None:
    database = db.get_database(desk.app)
    for name, publish in (("cyclone-alert", True), ("cyclone-update", False)):
        with database.session() as session:
            kharkiv = list(session.scalars(select(Region).where(Region.slug == "kharkiv")))
            alerts = parse_cap(cap_fixture(name))
            import_cap(session, alerts, regions=kharkiv, publish=publish, now=datetime.now(UTC))
    old, new = "Cyclone signal 7", "Great danger signal 10"

    def live_titles() -> list[str]:
        # The sample alert expired in November: what matters is what is live, not in force.
        with database.session() as session:
            return [
                form["title"]
                for form in map(BULLETIN.canonical, session.scalars(select(Bulletin)))
                if form["status"] == "published"
            ]

    assert [title.split(" for ")[0] for title in live_titles()] == [old]
    queue = desk.reviewer.get("/portal/review").get_data(as_text=True)
    assert new in queue
    assert "By cap" in queue
    approve(desk, desk.reviewer, pending_id(desk.app))
    assert [title.split(" for ")[0] for title in live_titles()] == [new]
