"""A content load changes only what its folder covers, says what it changed, and can only look.

Partners each keep a folder; the demo samples are development's own. Issue 18: one partner's
folder retracted every other region's content, production fell back to the demo samples, and
restarting `refuge demo` retracted what another folder had loaded.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from server import db
from server.app import create_app
from server.cli import serve
from server.cli.content import CONTENT_DIR
from server.config import Settings
from server.models import versions
from server.models.bulletins import Bulletin, BulletinStatus
from server.models.checklists import Checklist
from server.models.content import Organization, Region, Resource

PARTNER_ORG = """\
id: kharkiv-housing-help
name: Kharkiv Housing Help
description: Volunteers who repair windows and roofs after strikes.
"""

PARTNER_RESOURCE = """\
id: {id}
organization: kharkiv-housing-help
region: kharkiv
name: {name}
description: Plastic sheeting and boards for broken windows. Free.
categories: [shelter]
languages: [uk, en]
status: active
verified_on: 2026-11-20
verified_by: Kharkiv Housing Help
"""


SALTIVKA = """\
slug: saltivka
name: Saltivka
kind: site
parent: kharkiv
country_code: UA
timezone: Europe/Kyiv
default_locale: uk
"""


def invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def partner_folder(root: Path, *resources: tuple[str, str]) -> Path:
    """One partner's folder: its organisation, its resources and the region files they need."""
    for folder in ("regions", "organizations", "resources"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for slug in ("ukraine", "kharkiv-oblast", "kharkiv"):
        shutil.copy(CONTENT_DIR / "regions" / f"{slug}.yaml", root / "regions")
    (root / "organizations" / "kharkiv-housing-help.yaml").write_text(PARTNER_ORG)
    for resource_id, name in resources:
        text = PARTNER_RESOURCE.format(id=resource_id, name=name)
        (root / "resources" / f"{resource_id}.yaml").write_text(text)
    return root


@pytest.fixture
def partner(tmp_path: Path) -> Path:
    return partner_folder(
        tmp_path / "partner",
        ("kharkiv-window-repair", "Window repair kits"),
        ("kharkiv-roof-repair", "Roof repair team"),
    )


@pytest.fixture
def operator_copy_of_demo(tmp_path: Path) -> Path:
    """The demo samples as an operator's own folder (origin "files", like any partner's)."""
    root = tmp_path / "operator"
    shutil.copytree(CONTENT_DIR, root)
    return root


def live(app: Flask) -> dict[str, set[str]]:
    """The ids of every current record, by kind."""
    with db.get_database(app).session() as session:
        return {
            "regions": set(session.scalars(select(Region.slug).where(Region.retired.is_(False)))),
            "organizations": set(
                session.scalars(select(Organization.id).where(Organization.retired.is_(False)))
            ),
            "resources": set(
                session.scalars(select(Resource.id).where(Resource.retired.is_(False)))
            ),
            "bulletins": set(
                session.scalars(
                    select(Bulletin.id).where(Bulletin.status != BulletinStatus.RETRACTED)
                )
            ),
            "checklists": set(
                session.scalars(select(Checklist.id).where(Checklist.retired.is_(False)))
            ),
        }


def token(app: Flask) -> str | None:
    with db.get_database(app).session() as session:
        return versions.current(session)


def test_one_partners_folder_loaded_over_the_demo_retracts_nothing_else(
    app: Flask, operator_copy_of_demo: Path, partner: Path
) -> None:
    assert invoke(app, "content", "load", str(operator_copy_of_demo)).exit_code == 0
    before = live(app)
    result = invoke(app, "content", "load", str(partner))
    assert result.exit_code == 0, result.output
    assert "retracted" not in result.output
    assert "created resource kharkiv-window-repair: Window repair kits" in result.output
    assert "created organization kharkiv-housing-help: Kharkiv Housing Help" in result.output
    after = live(app)
    assert after["resources"] == before["resources"] | {
        "kharkiv-window-repair",
        "kharkiv-roof-repair",
    }
    assert after["organizations"] == before["organizations"] | {"kharkiv-housing-help"}
    for kind in ("regions", "bulletins", "checklists"):
        assert after[kind] == before[kind], kind


def test_a_file_removed_from_a_partners_folder_retracts_its_record_and_says_so(
    app: Flask, operator_copy_of_demo: Path, partner: Path
) -> None:
    invoke(app, "content", "load", str(operator_copy_of_demo))
    invoke(app, "content", "load", str(partner))
    before = live(app)
    (partner / "resources" / "kharkiv-roof-repair.yaml").unlink()
    result = invoke(app, "content", "load", str(partner))
    assert result.exit_code == 0, result.output
    assert "retracted resource kharkiv-roof-repair: Roof repair team" in result.output
    assert "resources: 1 retracted, 1 unchanged" in result.output
    assert live(app)["resources"] == before["resources"] - {"kharkiv-roof-repair"}


def test_prune_retracts_what_the_folder_lacks_of_its_origin_only(
    app: Flask, partner: Path, tmp_path: Path
) -> None:
    invoke(app, "content", "load")  # the demo samples, kept by the demo: a --prune leaves them
    other = partner_folder(tmp_path / "other", ("kharkiv-boards", "Boards for windows"))
    (other / "regions" / "saltivka.yaml").write_text(SALTIVKA)
    invoke(app, "content", "load", str(other))
    before = live(app)
    result = invoke(app, "content", "load", "--prune", str(partner))
    assert result.exit_code == 0, result.output
    assert "retracted resource kharkiv-boards: Boards for windows" in result.output
    after = live(app)
    assert after["resources"] == before["resources"] - {"kharkiv-boards"} | {
        "kharkiv-window-repair",
        "kharkiv-roof-repair",
    }
    assert "sample-kharkiv-legal-consultations" in after["resources"]
    # Regions are everyone's: the demo's stay while its content lies in them; an empty one goes.
    assert "retracted region saltivka: Saltivka" in result.output
    assert "kept region bangladesh: Bangladesh (current content lies in it)" in result.output
    assert after["regions"] == before["regions"] - {"saltivka"}


def test_a_dry_run_prints_every_change_and_changes_nothing(
    app: Flask, operator_copy_of_demo: Path, partner: Path
) -> None:
    invoke(app, "content", "load", str(operator_copy_of_demo))
    before, version = live(app), token(app)
    result = invoke(app, "content", "load", "--dry-run", "--prune", str(partner))
    assert result.exit_code == 0, result.output
    assert "created resource kharkiv-window-repair: Window repair kits" in result.output
    assert "retracted resource sample-kharkiv-legal-consultations: " in result.output
    assert "retracted bulletin sample-kharkiv-strikes-2026-11: " in result.output
    assert "Dry run: nothing was changed." in result.output
    assert live(app) == before
    assert token(app) == version
    with db.get_database(app).session() as session:
        assert session.get(Resource, "kharkiv-window-repair") is None


@pytest.fixture
def production(make_settings: Callable[..., Settings]) -> Flask:
    settings = make_settings(
        REFUGE_ENV="production",
        REFUGE_ALLOW_SQLITE="true",
        REFUGE_SMS_BACKEND="twilio",
        REFUGE_TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        REFUGE_TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32,
        REFUGE_PUBLIC_URL="https://refuge.example.org",
    )
    application = create_app(settings)
    db.Base.metadata.create_all(db.get_database(application).engine)
    return application


def test_production_without_a_path_loads_nothing_and_says_to_give_one(
    production: Flask, operator_copy_of_demo: Path
) -> None:
    assert invoke(production, "content", "load", str(operator_copy_of_demo)).exit_code == 0
    before = live(production)
    result = production.test_cli_runner().invoke(args=["content", "load"])
    assert result.exit_code != 0
    assert "give the path of the content folder to load" in result.output
    assert live(production) == before


def demo_restart(app: Flask, capsys: pytest.CaptureFixture[str]) -> str:
    """What `refuge demo` loads and prints before it serves."""
    capsys.readouterr()
    with app.app_context():
        serve._load_demo_content()
    return capsys.readouterr().out


def test_restarting_the_demo_keeps_another_origins_records_and_counts_truly(
    app: Flask, partner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = demo_restart(app, capsys)
    assert "0 retracted" in first
    created = first.count("created ")
    assert invoke(app, "content", "load", str(partner)).exit_code == 0
    before = live(app)
    again = demo_restart(app, capsys)
    assert live(app) == before
    assert {"kharkiv-window-repair", "kharkiv-roof-repair"} <= before["resources"]
    assert f"0 created, 0 updated, {created} unchanged, 0 retracted" in again


def test_the_demo_leaves_a_record_another_origin_took_over(
    app: Flask, operator_copy_of_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo_restart(app, capsys)
    path = operator_copy_of_demo / "resources" / "sample-kharkiv-legal-consultations.yaml"
    path.write_text(path.read_text().replace("status: active", "status: inactive"))
    taken = invoke(app, "content", "load", str(operator_copy_of_demo))
    assert "(was kept by demo)" in taken.output
    again = demo_restart(app, capsys)
    assert "updated" not in again.split("Demo content:")[0]
    with db.get_database(app).session() as session:
        resource = session.get(Resource, "sample-kharkiv-legal-consultations")
        assert resource is not None
        assert resource.origin == "files"
        assert resource.status.value == "inactive"
        count = session.scalar(select(func.count()).select_from(Resource))
    assert count == len(list((CONTENT_DIR / "resources").glob("*.yaml")))
