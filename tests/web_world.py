"""A small world for the web and API tests, dated relative to now so it never goes stale itself.

Testland > North (hides stale resources) and East (shows them, marked). A fresh clinic, a stale
helpline, a confidential safe house whose whereabouts were typed in by mistake, a retired
resource; bulletins current, expired, retracted, draft, not yet issued, and a context note.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server import db
from server.content import loader
from server.content.search import reindex_all
from server.models.bulletins import Bulletin, BulletinKind, BulletinStatus, Severity
from server.models.checklists import Checklist, ChecklistStep
from server.models.content import (
    Category,
    Location,
    Organization,
    Phone,
    PhoneKind,
    Region,
    RegionKind,
    Resource,
    ResourceCategory,
)
from server.models.translations import Translation, source_digest
from server.resources import shipped

DEMO_CONTENT = shipped("demo")
#: Where the safe house is; none of these may ever leave the server.
SECRETS = ("House 14, Lane 9", "Kolatoli", "21.4567", "92.0123")
NOW = datetime.now(UTC)
TODAY = NOW.date()


def load_demo(session: Session, tmp: Path) -> None:
    """The shipped demo content (a copy, since loading may write back)."""
    root = tmp / "demo-content"
    shutil.copytree(DEMO_CONTENT, root)
    loader.load(session, root)


def _region(session: Session, slug: str, name: str, parent: Region | None, hide: bool) -> Region:
    region = Region(
        slug=slug,
        name=name,
        kind=RegionKind.COUNTRY if parent is None else RegionKind.AREA,
        parent_id=parent.id if parent else None,
        country_code="TL",
        timezone="UTC",
        default_locale="en",
        source_locale="en",
        position=0,
        hide_stale=hide,
        retired=False,
    )
    session.add(region)
    session.flush()
    return region


def _resource(
    session: Session,
    id_: str,
    region: Region,
    *,
    verified: date,
    category: Category = Category.MEDICAL,
    retired: bool = False,
) -> Resource:
    resource = Resource(
        id=id_,
        organization_id="test-org",
        region_id=region.id,
        name=id_.replace("-", " ").title(),
        description=f"About {id_}.",
        verified_on=verified,
        verified_by="Test field team",
        review_interval_days=90,
        retired=retired,
        updated_at=NOW - timedelta(days=3),
    )
    resource.categories.append(ResourceCategory(category=category))
    session.add(resource)
    return resource


def _bulletin(
    session: Session,
    id_: str,
    region: Region,
    *,
    status: BulletinStatus = BulletinStatus.PUBLISHED,
    issued: timedelta = timedelta(days=-1),
    expires: timedelta | None = timedelta(days=5),
    kind: BulletinKind = BulletinKind.ALERT,
) -> None:
    bulletin = Bulletin(
        id=id_,
        kind=kind,
        status=status,
        severity=Severity.SEVERE,
        title=f"Bulletin {id_}",
        body=f"Body of **{id_}**.",
        source_name="Test Authority",
        source_url="https://authority.example/notice",
        issued_at=NOW + issued,
        expires_at=NOW + expires if expires is not None else None,
        updated_at=NOW - timedelta(days=2),
    )
    bulletin.regions.append(region)
    session.add(bulletin)


def build(session: Session) -> None:
    """Create the test world."""
    land = _region(session, "testland", "Testland", None, hide=False)
    north = _region(session, "north", "North", land, hide=True)
    east = _region(session, "east", "East", land, hide=False)
    session.add(Organization(id="test-org", name="Test Relief", description=""))
    session.flush()
    clinic = _resource(session, "fresh-clinic", east, verified=TODAY - timedelta(days=5))
    clinic.phones.append(Phone(id="clinic-voice", number="+44 7700 900001", kind=PhoneKind.VOICE))
    clinic.phones.append(Phone(id="clinic-wa", number="+44 7700 900002", kind=PhoneKind.WHATSAPP))
    clinic.locations.append(
        Location(id="clinic-site", name="Clinic tent", address="Gate 3", city="Eastville")
    )
    _resource(session, "stale-helpline", east, verified=TODAY - timedelta(days=200))
    _resource(session, "hidden-stale-line", north, verified=TODAY - timedelta(days=200))
    _resource(session, "retired-kitchen", east, verified=TODAY, retired=True)
    house = _resource(
        session, "safe-house", north, verified=TODAY - timedelta(days=1), category=Category.SHELTER
    )
    house.locations.append(
        Location(
            id="safe-house-site",
            name="House 14, Lane 9",
            address="House 14, Lane 9",
            city="Kolatoli",
            latitude=21.4567,
            longitude=92.0123,
            confidential=True,
            call_first_phone="+44 7700 900003",
        )
    )
    session.add(
        Translation(
            entity="resource",
            entity_id="fresh-clinic",
            field="name",
            locale="ar",
            text="عيادة جديدة",
            source_digest=source_digest("Fresh Clinic"),
            updated_at=NOW - timedelta(days=3),
        )
    )
    _bulletin(session, "current-alert", east)
    _bulletin(
        session, "expired-alert", east, issued=timedelta(days=-9), expires=timedelta(hours=-1)
    )
    _bulletin(session, "retracted-alert", east, status=BulletinStatus.RETRACTED)
    _bulletin(session, "draft-alert", east, status=BulletinStatus.DRAFT)
    _bulletin(session, "future-alert", east, issued=timedelta(days=1))
    _bulletin(session, "rumour-note", land, kind=BulletinKind.CONTEXT, expires=None)
    guide = Checklist(
        id="phone",
        title="Lock your phone",
        summary="Two steps.",
        platform="Android",
        platform_version="Android 14",
        reviewed_on=TODAY,
        updated_at=NOW - timedelta(days=4),
    )
    for position, title in enumerate(("Set a PIN", "Hide notifications"), start=1):
        guide.steps.append(
            ChecklistStep(
                id=f"phone/step-{position}",
                position=position,
                title=title,
                web_text=f"Do **{title.lower()}**.",
                sms_text=title,
            )
        )
    session.add(guide)
    session.flush()
    reindex_all(session, session.query(Resource).all())


@pytest.fixture
def world(app: Flask) -> FlaskClient:
    """A client of an app holding the test world."""
    with db.get_database(app).session() as session:
        build(session)
    return app.test_client()


@pytest.fixture
def demo(app: Flask, tmp_path: Path) -> FlaskClient:
    """A client of an app holding the shipped demo content."""
    with db.get_database(app).session() as session:
        load_demo(session, tmp_path)
    return app.test_client()
