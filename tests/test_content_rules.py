"""What may be shown: safe markup, nothing expired as current, stale flagged, shelters hidden."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from server import db
from server.content import loader, queries
from server.content.markup import plain_text, render
from server.models.bulletins import Bulletin, BulletinStatus
from server.models.content import Region, Resource

FIXTURES = Path(__file__).parent / "fixtures" / "content"
TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "<img"),
        ("[click](javascript:alert(1))", 'href="javascript'),
        ("[data](data:text/html;base64,PHNjcmlwdD4=)", 'href="data'),
        ('<a href="https://example.org" onclick="steal()">x</a>', "onclick"),
        ("![tracker](https://tracker.example.net/pixel.png)", "<img"),
        ("[plain](http://example.org)", 'href="http:'),
        ('<iframe src="https://example.org"></iframe>', "<iframe"),
        ("<style>body{display:none}</style>", "<style"),
    ],
)
def test_the_sanitiser_strips_anything_that_runs_or_loads(source: str, forbidden: str) -> None:
    html = render(source)
    assert forbidden not in html or forbidden.lstrip("<") in _escaped_text(html)
    for tag, attributes in _elements(html):
        assert tag in {"p", "strong", "em", "a", "ul", "ol", "li", "br", "code", "pre"}
        for name, value in attributes:
            assert name in {"href", "rel"}, f"{tag} carries {name}"
            if name == "href":
                assert (value or "").startswith(("https:", "tel:", "mailto:"))


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element a browser would build from the HTML, with its attributes."""
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def _escaped_text(html: str) -> str:
    """Markup that was escaped into harmless text (shown, never run)."""
    import re

    return " ".join(re.findall(r"&lt;.*?&gt;", html))


def test_safe_markdown_survives_with_https_tel_and_mailto_links() -> None:
    html = render(
        "**Call** [the line](tel:+447700900123), [write](mailto:help@example.org) "
        "or [read](https://example.org/help).\n\n- one\n- two"
    )
    assert "<strong>Call</strong>" in html
    assert 'href="tel:+447700900123"' in html
    assert 'href="mailto:help@example.org"' in html
    assert 'href="https://example.org/help"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "<li>two</li>" in html
    assert plain_text("**Call** now & <b>stay</b>") == "Call now & <b>stay</b>"


@pytest.fixture
def database(app: Flask, tmp_path: Path) -> db.Database:
    database = db.get_database(app)
    root = tmp_path / "content"
    shutil.copytree(FIXTURES, root)
    with database.session() as session:
        loader.load(session, root)
    return database


def _region(session: object, slug: str) -> Region:
    region = session.scalar(select(Region).where(Region.slug == slug))  # type: ignore[attr-defined]
    assert region is not None
    return region


def test_only_published_unexpired_bulletins_are_current(database: db.Database) -> None:
    with database.session() as session:
        camp = _region(session, "river-camp")
        current = {b.id for b in queries.current_bulletins(session, camp, NOW)}
        # The camp sees its own alert and the country-wide context note, not the expired alert.
        assert current == {"test-flood-alert", "test-water-rumour"}
        flood = session.get(Bulletin, "test-flood-alert")
        assert flood is not None
        flood.status = BulletinStatus.DRAFT
        session.flush()
        assert "test-flood-alert" not in {
            b.id for b in queries.current_bulletins(session, camp, NOW)
        }
        after_expiry = datetime(2027, 1, 1, tzinfo=UTC)
        flood.status = BulletinStatus.PUBLISHED
        assert "test-flood-alert" not in {
            b.id for b in queries.current_bulletins(session, camp, after_expiry)
        }
        before_issue = datetime(2026, 11, 1, tzinfo=UTC)
        assert "test-flood-alert" not in {
            b.id for b in queries.current_bulletins(session, camp, before_issue)
        }


def test_a_stale_resource_is_flagged_with_its_verification_date(database: db.Database) -> None:
    with database.session() as session:
        helpline = session.get(Resource, "test-old-helpline")
        assert helpline is not None
        view = queries.view_resource(helpline, TODAY)
        assert view.stale
        assert view.verified_on == date(2026, 1, 1)
        assert view.verified_by == "Test field team"
        fresh = session.get(Resource, "test-river-clinic")
        assert fresh is not None
        assert not queries.view_resource(fresh, TODAY).stale
        assert [r.id for r in queries.stale_resources(session, TODAY)] == ["test-old-helpline"]


def test_a_region_can_hide_stale_resources_instead(database: db.Database) -> None:
    with database.session() as session:
        camp = _region(session, "river-camp")
        assert camp.hide_stale
        shown = queries.visible(queries.resources_in(session, camp), TODAY)
        assert [view.resource.id for view in shown] == ["test-river-clinic"]
        north = _region(session, "north-area")
        camp.hide_stale = False
        shown = queries.visible(queries.resources_in(session, north), TODAY)
        assert {view.resource.id for view in shown} == {
            "test-old-helpline",
            "test-river-clinic",
            "test-safe-house",
        }
        assert next(v for v in shown if v.resource.id == "test-old-helpline").stale


def test_a_confidential_location_shows_only_its_call_first_phone(database: db.Database) -> None:
    with database.session() as session:
        house = session.get(Resource, "test-safe-house")
        assert house is not None
        house.locations[0].address = "12 Hidden Street"  # even if someone typed it in later
        house.locations[0].latitude = 14.5
        (location,) = queries.view_resource(house, TODAY).locations
        assert location.confidential
        assert location.call_first_phone == "+44 7700 900003"
        shown = asdict(location)
        assert "12 Hidden Street" not in str(shown)
        assert location.latitude is None
        assert location.longitude is None
        assert location.city is None


@pytest.mark.parametrize(
    ("answer", "parent", "expected"),
    [
        ("1", "testland", "north-area"),
        ("2", "testland", "east-city"),
        ("٢", "testland", "east-city"),  # Arabic-Indic digit
        ("၁", "testland", "north-area"),  # Burmese digit
        ("3", "testland", None),
        ("North Area", "testland", "north-area"),
        ("north", "testland", "north-area"),
        ("EAST CITY", "testland", "east-city"),
        ("testland", None, "testland"),
        ("أرض الاختبار", None, "testland"),  # the region's Arabic name
        ("atlantis", "testland", None),
        ("", "testland", None),
    ],
)
def test_a_region_is_picked_by_number_or_name(
    database: db.Database, answer: str, parent: str | None, expected: str | None
) -> None:
    with database.session() as session:
        above = _region(session, parent) if parent else None
        picked = queries.pick_region(session, answer, above)
        assert (picked.slug if picked else None) == expected
