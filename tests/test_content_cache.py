"""Content the conversation reads is kept per process, and a content load is seen at once."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from server import db
from server.content import loader
from server.conversation import library
from server.models.content import Region
from server.models.people import Subscriber
from server.models.versions import current
from tests.sms_helpers import Handset, settings_of

FIXTURES = Path(__file__).parent / "fixtures" / "content"
#: A newcomer's way to the medical resources of River Camp.
TO_MEDICAL = ("1", "1", "1", "1", "2")


@pytest.fixture
def content(app: Flask, tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURES, root)
    content_load(app, root)
    return root


def content_load(app: Flask, root: Path) -> None:
    result = app.test_cli_runner().invoke(
        args=["content", "load", str(root)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def walk(handset: Handset, *messages: str) -> str:
    replies = [handset.ask(message) for message in ("0", *messages)]
    return replies[-1]


def newcomer(app: Flask, number: int) -> Handset:
    """A phone that has not chosen a region yet."""
    return Handset(app, f"+4477009001{number:02d}")


def test_a_content_load_is_seen_by_the_next_message(app: Flask, content: Path) -> None:
    handset = Handset(app, "+447700900123")
    assert "Testland" in walk(newcomer(app, 1), "1")
    assert "River Clinic (sample)" in walk(newcomer(app, 3), *TO_MEDICAL)
    assert "1 Lock your phone" in walk(handset, "3")
    assert walk(handset, "3", "1").startswith("Set a screen lock")
    assert library.SHARED.answers  # those answers are kept now

    edit(content / "regions" / "testland.yaml", "name: Testland", "name: Newland")
    edit(content / "resources" / "test-river-clinic.yaml", "River Clinic", "Delta Clinic")
    guide = content / "checklists" / "test-phone.yaml"
    edit(guide, "title: Lock your phone", "title: Lock your handset")
    edit(guide, '"Set a screen lock: Settings', '"Choose a screen lock: Settings')
    content_load(app, content)

    assert "Newland" in walk(newcomer(app, 2), "1")
    assert "Delta Clinic (sample)" in walk(newcomer(app, 4), *TO_MEDICAL)
    assert "1 Lock your handset" in walk(handset, "3")
    assert walk(handset, "3", "1").startswith("Choose a screen lock")


def test_content_written_by_another_process_is_seen(app: Flask, content: Path) -> None:
    handset = Handset(app, "+447700900124")
    assert "1 Lock your phone" in walk(handset, "3")
    edit(content / "checklists" / "test-phone.yaml", "title: Lock your phone", "title: Lock it")
    # Another process: its own engine and sessions on the same database.
    other = db.Database(make_url(settings_of(app).database_url), db.get_database(app).vault)
    try:
        with other.session() as session:
            loader.load(session, content)
    finally:
        other.dispose()
    assert "1 Lock it" in walk(handset, "3")


def test_a_conversation_does_not_change_the_content_version(app: Flask, content: Path) -> None:
    database = db.get_database(app)
    with database.session() as session:
        before = current(session)
    handset = Handset(app, "+447700900125")
    walk(handset, "1", "1")
    with database.session() as session:
        assert session.scalar(select(Subscriber)) is not None
        assert current(session) == before


def test_any_write_of_content_gives_a_new_version(app: Flask, content: Path) -> None:
    database = db.get_database(app)
    with database.session() as session:
        before = current(session)
        region = session.scalar(select(Region).where(Region.slug == "east-city"))
        assert region is not None
        region.position = region.position  # no change: no new version
        session.flush()
        assert current(session) == before
        region.position += 1
        session.flush()
        assert current(session) not in {before, None}


def test_loading_the_same_files_again_keeps_the_version(app: Flask, content: Path) -> None:
    with db.get_database(app).session() as session:
        before = current(session)
        loader.load(session, content)
        assert current(session) == before


def test_kept_bulletins_follow_the_clock_without_any_content_write(
    app: Flask, content: Path
) -> None:
    # The flood alert is in force from 20 Nov 06:00 to 31 Dec; the water rumour's context
    # note from 10 Nov with no end. One Library per moment, as one per turn.
    def news(moment: datetime) -> list[str]:
        with db.get_database(app).session() as session:
            shelf = library.Library(session, settings_of(app).localization, moment.date())
            return [line.title for line in shelf.bulletins("river-camp", "en", moment)]

    def checked(moment: datetime) -> list[str]:
        with db.get_database(app).session() as session:
            shelf = library.Library(session, settings_of(app).localization, moment.date())
            found = shelf.context_notes("the aid water is poisoned", "river-camp", "en", moment)
            return [line.title for line in found]

    flood = "Flood warning for River Camp (sample)"
    water = "What we know about the water supply (sample)"
    assert news(datetime(2026, 11, 25, tzinfo=UTC)) == [flood, water]
    assert checked(datetime(2026, 11, 25, tzinfo=UTC)) == [water]
    assert library.SHARED.answers  # kept: the readings below change nothing in the database
    # A second past the expiry the alert is gone; the note stays.
    assert news(datetime(2026, 12, 31, 0, 0, 1, tzinfo=UTC)) == [water]
    # Asked about a moment before the kept list was read: the alert before its issue, then
    # the days before the note was issued and the long-expired road closure.
    assert news(datetime(2026, 11, 20, 5, 59, tzinfo=UTC)) == [water]
    assert news(datetime(2026, 11, 1, tzinfo=UTC)) == []
    assert checked(datetime(2026, 11, 1, tzinfo=UTC)) == []
    assert news(datetime(2026, 10, 1, 12, tzinfo=UTC)) == ["Expired road closure (sample)"]
