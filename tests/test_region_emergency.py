"""A region's emergency number (issue 17): kept in its content file, inherited down the region
tree, told to someone whose message looks like a cry for help, shown on the web and in the API;
without one anywhere above a place, its verified helpline is told as before.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import db, segments
from server.content import loader
from server.content.schema import ContentError
from server.i18n.locales import catalogue
from server.models.content import Region
from tests.checkin_helpers import register
from tests.sms_helpers import Handset, load_demo_content

FIXTURES = Path(__file__).parent / "fixtures" / "content"
PERSON = "+44 7700 900692"
#: Cox's Bazar's protection helpline: the line told where no emergency number is known.
CXB_PROTECTION_LINE = "+44 7700 900104"
CALL = "In an emergency, call the emergency services: %(phone)s."


def said(locale: str, english: str, **values: str) -> str:
    text = str(catalogue(locale).gettext(english)) % values
    return segments.prepare(text, segments.AccentPolicy.TRANSLITERATE)


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def set_emergency(app: Flask, slug: str, number: str | None) -> None:
    with db.get_database(app).session() as session:
        region = session.scalar(select(Region).where(Region.slug == slug))
        assert region is not None
        region.emergency = number
        session.commit()


def cry_for_help(app: Flask, locale: str, region: str, text: str) -> str:
    register(app, PERSON, locale, region)
    return Handset(app, PERSON).ask(text)


# --- By SMS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "region", "text", "number"),
    [
        ("en", "kutupalong", "please help", "999"),  # a camp: Bangladesh's number
        ("en", "cox-s-bazar", "urgent", "999"),
        ("uk", "kharkiv", "допоможіть терміново", "112"),  # bare, a keyword
        ("ar", "gedaref-town-gathering-site", "عاجل", "999"),
    ],
)
def test_a_cry_for_help_is_told_the_emergency_number_of_the_place_or_above_it(
    loaded: Flask, locale: str, region: str, text: str, number: str
) -> None:
    answer = cry_for_help(loaded, locale, region, text)
    assert said(locale, CALL, phone=number) in answer, answer
    assert answer.startswith(said(locale, "Refuge is automated: nobody reads these messages."))


def test_a_place_s_own_number_comes_before_its_country_s(loaded: Flask) -> None:
    set_emergency(loaded, "cox-s-bazar", "16263")
    answer = cry_for_help(loaded, "en", "kutupalong", "please help")
    assert CALL % {"phone": "16263"} in answer
    assert "999" not in answer


def test_without_an_emergency_number_above_the_place_its_helpline_is_told(
    loaded: Flask,
) -> None:
    set_emergency(loaded, "bangladesh", None)
    answer = cry_for_help(loaded, "en", "cox-s-bazar", "please help")
    assert CXB_PROTECTION_LINE in answer, answer
    assert "emergency services" not in answer


# --- The content file -------------------------------------------------------------------------


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURES, root)
    return root


def with_emergency(root: Path, number: str) -> None:
    path = root / "regions" / "testland.yaml"
    path.write_text(path.read_text().replace("kind: country\n", f"kind: country\n{number}\n"))


def test_a_region_s_emergency_number_loads_and_exports_unchanged(
    app: Flask, content: Path, tmp_path: Path
) -> None:
    with_emergency(content, 'emergency: "999"')
    database = db.get_database(app)
    with database.session() as session:
        loader.load(session, content)
        camp = session.scalar(select(Region).where(Region.slug == "river-camp"))
        assert camp is not None
        assert camp.emergency is None
        assert camp.parent is not None
        assert camp.parent.parent is not None
        assert camp.parent.parent.emergency == "999"
        loader.export(session, tmp_path / "exported")
    exported = yaml.safe_load((tmp_path / "exported" / "regions" / "testland.yaml").read_text())
    assert exported["emergency"] == "999"
    assert "emergency" not in (tmp_path / "exported" / "regions" / "north-area.yaml").read_text()
    with database.session() as session:
        report = loader.load(session, tmp_path / "exported")
    assert report.counts["regions"] == {"unchanged": 4}


def test_an_emergency_number_that_is_no_number_is_refused_with_its_line(
    app: Flask, content: Path
) -> None:
    with_emergency(content, "emergency: call the police")
    with db.get_database(app).session() as session, pytest.raises(ContentError) as refused:
        loader.load(session, content)
    problems = [p for p in refused.value.problems if p.path.name == "testland.yaml"]
    assert [(p.line, "emergency" in p.reason) for p in problems] == [(4, True)], problems


# --- Web and API ------------------------------------------------------------------------------


def test_the_api_gives_each_region_its_emergency_number_inherited(
    loaded: Flask, client: FlaskClient
) -> None:
    items = client.get("/api/v1/regions").get_json()["items"]
    numbers = {item["slug"]: item["emergency"] for item in items}
    assert numbers["kutupalong"] == numbers["cox-s-bazar"] == numbers["bangladesh"] == "999"
    assert numbers["kharkiv"] == numbers["ukraine"] == "112"
    assert numbers["gedaref"] == "999"


def test_a_place_s_resource_page_shows_its_emergency_number(
    loaded: Flask, client: FlaskClient
) -> None:
    html = client.get("/ar/resources", query_string={"region": "kutupalong"}).get_data(as_text=True)
    assert 'href="tel:999"' in html
    assert str(catalogue("ar").gettext("In an emergency, call the emergency services:")) in html
    everywhere = client.get("/en/resources").get_data(as_text=True)
    assert "tel:999" not in everywhere  # no place chosen: no one number to call


def test_a_place_without_any_emergency_number_shows_none(
    loaded: Flask, client: FlaskClient
) -> None:
    set_emergency(loaded, "ukraine", None)
    html = client.get("/en/resources", query_string={"region": "kharkiv"}).get_data(as_text=True)
    assert "In an emergency, call the emergency services:" not in html


def test_a_resource_page_and_the_news_show_the_number_to_call_there(
    loaded: Flask, client: FlaskClient
) -> None:
    listing = client.get("/en/resources", query_string={"region": "kharkiv"}).get_data(as_text=True)
    first = re.search(r'href="(/en/resources/[^"?]+)\?region=kharkiv"', listing)
    assert first is not None, listing
    page = client.get(f"{first[1]}?region=kharkiv").get_data(as_text=True)
    assert 'href="tel:112"' in page  # Ukraine's number, inherited by Kharkiv
    news = client.get("/uk/info", query_string={"region": "kutupalong"}).get_data(as_text=True)
    assert 'href="tel:999"' in news  # Bangladesh's, for a camp
    assert str(catalogue("uk").gettext("In an emergency, call the emergency services:")) in news
    assert "tel:999" not in client.get("/en/info").get_data(as_text=True)  # no place chosen
