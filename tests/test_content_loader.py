"""Content files: checked first, loaded all or nothing, idempotent, exported back the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from server import db
from server.content import loader
from server.content.schema import ContentError
from server.models.bulletins import Bulletin, BulletinStatus
from server.models.checklists import Checklist
from server.models.content import Region, Resource
from server.models.translations import Translation, TranslationStatus

FIXTURES = Path(__file__).parent / "fixtures" / "content"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A writable copy of the test content tree."""
    root = tmp_path / "content"
    shutil.copytree(FIXTURES, root)
    return root


@pytest.fixture
def database(app: Flask) -> db.Database:
    return db.get_database(app)


def load(database: db.Database, root: Path) -> loader.LoadReport:
    with database.session() as session:
        return loader.load(session, root)


def count(database: db.Database, model: type[db.Base]) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_first_load_creates_every_record(database: db.Database, content: Path) -> None:
    report = load(database, content)
    assert report.counts["regions"] == {"created": 4}
    assert report.counts["resources"] == {"created": 4}
    assert report.counts["bulletins"] == {"created": 3}
    assert report.counts["checklists"] == {"created": 1}
    with database.session() as session:
        camp = session.scalar(select(Region).where(Region.slug == "river-camp"))
        assert camp is not None
        assert camp.parent is not None
        assert camp.parent.slug == "north-area"
        clinic = session.get(Resource, "test-river-clinic")
        assert clinic is not None
        assert [p.kind.value for p in clinic.phones] == ["voice", "whatsapp"]
        assert clinic.schedules[0].opens_at is not None
        checklist = session.get(Checklist, "test-phone")
        assert checklist is not None
        assert [step.id for step in checklist.steps] == [
            "test-phone/screen-lock",
            "test-phone/updates",
        ]


def test_a_second_load_changes_nothing(database: db.Database, content: Path) -> None:
    load(database, content)
    with database.session() as session:
        before = {r.id: r.updated_at for r in session.scalars(select(Resource))}
    report = load(database, content)
    assert report.total("created") == report.total("updated") == report.total("retracted") == 0
    assert report.total("unchanged") == 4 + 1 + 4 + 3 + 1
    with database.session() as session:
        assert {r.id: r.updated_at for r in session.scalars(select(Resource))} == before


def test_load_export_load_round_trips_without_change(
    database: db.Database, content: Path, tmp_path: Path
) -> None:
    load(database, content)
    exported = tmp_path / "exported"
    with database.session() as session:
        written = loader.export(session, exported)
    assert written == 4 + 1 + 4 + 3 + 1
    report = load(database, exported)
    assert report.total("unchanged") == written
    assert report.total("updated") == report.total("created") == 0
    again = tmp_path / "again"
    with database.session() as session:
        loader.export(session, again)
    for path in exported.rglob("*.*"):
        assert (again / path.relative_to(exported)).read_text() == path.read_text()


def test_one_bad_file_loads_nothing_and_names_file_and_line(
    database: db.Database, content: Path
) -> None:
    bad = content / "resources" / "test-kharkiv-legal.yaml"
    bad.write_text(bad.read_text().replace("verified_on: 2026-11-15", "verified_on: soon"))
    with pytest.raises(ContentError) as refused:
        load(database, content)
    (problem,) = refused.value.problems
    assert problem.path == bad
    assert problem.line == 8
    assert "verified_on" in problem.reason
    assert count(database, Resource) == 0
    assert count(database, Region) == 0


@pytest.mark.parametrize(
    ("file", "old", "new", "reason"),
    [
        (
            "resources/test-river-clinic.yaml",
            "sample: true",
            "sample: true\nfavourite_colour: blue",
            "unknown field 'favourite_colour'",
        ),
        (
            "resources/test-safe-house.yaml",
            "    confidential: true",
            "    confidential: true\n    address: 12 Hidden Street",
            "a confidential location must not have 'address'",
        ),
        (
            "checklists/test-phone.yaml",
            'sms: "Install updates: Settings > System > Software update."',
            'sms: "' + "Install updates now " * 9 + '"',
            "'sms' must fit one GSM-7 segment",
        ),
        (
            "checklists/test-phone.yaml",
            'sms: "Install updates: Settings > System > Software update."',
            "sms: \u201cInstall updates\u201d",
            "'sms' must fit one GSM-7 segment",
        ),
        ("resources/test-old-helpline.yaml", "region: river-camp", "region: atlantis", "no region"),
        (
            "resources/test-river-clinic.yaml",
            'opens_at: "08:00"',
            "opens_at: 8:00",
            'write times in quotes, like "08:00"',
        ),
        ("bulletins/test-flood-alert.md", "expires_at: 2026-12-31T00:00:00Z\n", "", "expires_at"),
        ("regions/north-area.yaml", "parent: testland", "parent: river-camp", "its own ancestor"),
        (
            "resources/test-river-clinic.yaml",
            "id: test-river-clinic\n",
            "id: other-id\n",
            "file name",
        ),
        ("regions/testland.yaml", "kind: country", "kind: [unclosed", "not valid YAML"),
        # A number longer than Python reads, and a number where a list belongs: refused with
        # a reason, not a traceback.
        ("checklists/test-phone.yaml", "position: 1", "position: " + "9" * 5000, "not valid YAML"),
        (
            "bulletins/test-water-rumour.md",
            "match_phrases:\n",
            "match_phrases: 5\nx_match_phrases:\n",
            "'match_phrases' must be a list",
        ),
        (
            "checklists/test-phone.yaml",
            "steps:\n",
            "steps: 5\nx_steps:\n",
            "'steps' must be a list",
        ),
    ],
)
def test_a_broken_file_is_refused_with_its_reason(
    database: db.Database, content: Path, file: str, old: str, new: str, reason: str
) -> None:
    path = content / file
    source = path.read_text()
    assert old in source
    path.write_text(source.replace(old, new))
    with pytest.raises(ContentError) as refused:
        load(database, content)
    assert any(reason in str(problem) for problem in refused.value.problems), refused.value
    assert count(database, Region) == 0


def test_a_removed_file_retracts_its_record_and_deletes_nothing(
    database: db.Database, content: Path
) -> None:
    load(database, content)
    (content / "resources" / "test-old-helpline.yaml").unlink()
    (content / "bulletins" / "test-flood-alert.md").unlink()
    report = load(database, content)
    assert report.counts["resources"]["retracted"] == 1
    assert report.counts["bulletins"]["retracted"] == 1
    with database.session() as session:
        helpline = session.get(Resource, "test-old-helpline")
        assert helpline is not None
        assert helpline.retired
        alert = session.get(Bulletin, "test-flood-alert")
        assert alert is not None
        assert alert.status is BulletinStatus.RETRACTED


def test_a_changed_source_makes_its_translation_stale(database: db.Database, content: Path) -> None:
    load(database, content)
    with database.session() as session:
        arabic = session.scalar(
            select(Translation).where(
                Translation.entity_id == "test-river-clinic",
                Translation.field == "name",
                Translation.locale == "ar",
            )
        )
        assert arabic is not None
        assert arabic.status is TranslationStatus.DRAFT
        assert not arabic.is_stale("River Clinic (sample)")
    path = content / "resources" / "test-river-clinic.yaml"
    path.write_text(
        path.read_text().replace("name: River Clinic (sample)", "name: River Health Post (sample)")
    )
    report = load(database, content)
    assert report.counts["resources"]["updated"] == 1
    with database.session() as session:
        arabic = session.scalar(
            select(Translation).where(
                Translation.entity_id == "test-river-clinic",
                Translation.field == "name",
                Translation.locale == "ar",
            )
        )
        assert arabic is not None
        assert arabic.is_stale("River Health Post (sample)")


def test_a_translation_changed_in_its_file_is_a_draft_again(
    database: db.Database, content: Path
) -> None:
    # A native speaker reviewed the Arabic texts (through the .po round trip)...
    load(database, content)
    with database.session() as session:
        arabic = session.scalars(
            select(Translation).where(
                Translation.entity_id == "test-river-clinic", Translation.locale == "ar"
            )
        ).all()
        assert {row.field for row in arabic} == {"name", "description"}
        for row in arabic:
            row.status = TranslationStatus.REVIEWED
    # ...then someone rewrote it in the file: nobody has reviewed the new text.
    path = content / "resources" / "test-river-clinic.yaml"
    path.write_text(path.read_text().replace("name: عيادة النهر", "name: مستوصف النهر"))
    load(database, content)
    with database.session() as session:
        rows = session.scalars(
            select(Translation).where(
                Translation.entity_id == "test-river-clinic", Translation.locale == "ar"
            )
        )
        status = {row.field: (row.text, row.status) for row in rows}
    assert status["name"] == ("مستوصف النهر", TranslationStatus.DRAFT)
    # The description the file left as it was keeps the review it had.
    assert status["description"][1] is TranslationStatus.REVIEWED


def test_the_shipped_content_loads_and_is_idempotent(database: db.Database) -> None:
    from server.cli.content import CONTENT_DIR

    first = load(database, CONTENT_DIR)
    assert first.total("created") > 0
    second = load(database, CONTENT_DIR)
    assert second.total("created") == second.total("updated") == 0


def test_a_bulletin_retracted_in_its_file_stays_unchanged_on_reload(
    database: db.Database, content: Path
) -> None:
    path = content / "bulletins" / "test-old-alert.md"
    path.write_text(path.read_text().replace("status: published", "status: retracted"))
    load(database, content)
    assert load(database, content).total("updated") == 0


def test_a_resource_whose_file_returns_is_brought_back(
    database: db.Database, content: Path, tmp_path: Path
) -> None:
    load(database, content)
    kept = tmp_path / "kept.yaml"
    shutil.move(content / "resources" / "test-old-helpline.yaml", kept)
    load(database, content)
    shutil.move(kept, content / "resources" / "test-old-helpline.yaml")
    assert load(database, content).counts["resources"]["updated"] == 1
    with database.session() as session:
        helpline = session.get(Resource, "test-old-helpline")
        assert helpline is not None
        assert not helpline.retired
