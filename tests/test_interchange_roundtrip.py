"""`refuge content export` after an HSDS import writes files `refuge content load` takes back:
the same records in a fresh database (issue 18, case 5)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from server import db
from server.content import loader, store
from server.content.cap import parse_cap
from server.content.cap_import import import_cap
from server.content.hsds import import_hsds
from server.models.bulletins import Bulletin
from server.models.content import Organization, Region, RegionKind, Resource
from server.models.translations import Translation

EXAMPLES = Path(__file__).parent / "fixtures" / "hsds" / "examples"
CAP_ALERT = Path(__file__).parent / "fixtures" / "cap" / "cyclone-alert.xml"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def records(database: db.Database) -> dict[str, Any]:
    """Every organisation and resource in its canonical (file) form."""
    with database.session() as session:
        return {
            "organizations": [
                store.organization_canonical(org)
                for org in session.scalars(select(Organization).order_by(Organization.id))
            ],
            "resources": [
                store.resource_canonical(resource)
                for resource in session.scalars(select(Resource).order_by(Resource.id))
            ],
        }


def test_an_hsds_import_exports_as_content_files_that_load_back(app: Flask, tmp_path: Path) -> None:
    database = db.get_database(app)
    with database.session() as session:
        region = Region(
            slug="mycity",
            kind=RegionKind.AREA,
            name="MyCity",
            country_code="GB",
            timezone="Europe/London",
            default_locale="en",
        )
        session.add(region)
        import_hsds(session, EXAMPLES / "csv", region=region, now=NOW)
    imported = records(database)
    assert imported["resources"], "the example's service was imported"
    (service,) = imported["resources"]
    assert all(service[name] for name in ("eligibility", "fees", "application_process"))
    with database.session() as session:
        loader.export(session, tmp_path / "content")
    db.Base.metadata.drop_all(database.engine)
    db.Base.metadata.create_all(database.engine)
    with database.session() as session:
        report = loader.load(session, tmp_path / "content", now=NOW)
    assert report.total("created") >= 3  # the region, the organisation, the resource
    assert records(database) == imported


def bulletins(database: db.Database) -> tuple[list[Any], list[tuple[str, str, str]]]:
    """Every bulletin in its canonical form, and its translations."""
    with database.session() as session:
        rows = session.scalars(select(Bulletin).order_by(Bulletin.id))
        translated = session.scalars(select(Translation).order_by(Translation.id))
        return [store.bulletin_canonical(row) for row in rows], sorted(
            (row.locale, row.field, row.text) for row in translated
        )


def test_a_cap_alert_exports_as_a_content_file_that_loads_back(app: Flask, tmp_path: Path) -> None:
    database = db.get_database(app)
    with database.session() as session:
        region = Region(
            slug="teknaf",
            kind=RegionKind.AREA,
            name="Teknaf",
            country_code="BD",
            timezone="Asia/Dhaka",
            default_locale="bn",
        )
        session.add(region)
        session.flush()
        alerts = parse_cap(CAP_ALERT.read_bytes())
        import_cap(session, alerts, regions=[region], publish=True, now=NOW)
    imported = bulletins(database)
    (alert,) = imported[0]
    assert (alert["urgency"], alert["certainty"], alert["cap_categories"]) == (
        "Expected",
        "Likely",
        ["Met"],
    )
    assert all(alert[name] for name in ("instruction", "contact"))
    with database.session() as session:
        loader.export(session, tmp_path / "content")
    db.Base.metadata.drop_all(database.engine)
    db.Base.metadata.create_all(database.engine)
    with database.session() as session:
        loader.load(session, tmp_path / "content", now=NOW)
    assert bulletins(database) == imported
