"""A search that names a place searches there (issue 17): `FIND shelter Kharkiv` from someone in
Cox's Bazar finds Kharkiv's shelters, by SMS in every language a region is named in, on the
web and in the API; an unknown or ambiguous place leaves the search where the person is.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import db, segments
from server.content.places import PlaceNames, named_place
from server.conversation.engine import MAX_PAGES
from server.i18n.locales import catalogue
from server.models.content import Region, RegionKind
from tests.checkin_helpers import register
from tests.sms_helpers import FICTION_PHONE, Handset, keyword, load_demo_content, subscriber_facts

PERSON = "+44 7700 900691"
#: Demo resources, by their names in English and Ukrainian.
KHARKIV_SHELTERS = ("Safe Shelter for Women and Children, Kharkiv", "Transit Centre for Evacuees")
KHARKIV_SHELTER_UK = "Безпечний притулок для жінок і дітей, Харків"  # noqa: RUF001
CXB_SHELTERS = ("Women's Safe House, Cox's Bazar", "Cyclone Shelter and Evacuation Volunteers")
KHARKIV_OBLAST_HOTLINE = "For all of Kharkiv oblast"


def said(locale: str, english: str, **values: str) -> str:
    """A reply text as the person's phone shows it."""
    text = str(catalogue(locale).gettext(english)) % values
    return segments.prepare(text, segments.AccentPolicy.TRANSLITERATE)


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def whole(phone: Handset, text: str) -> str:
    """Every page of the answer to `text`, read with MORE."""
    pages = [phone.ask(text)]
    while "MORE" in pages[-1].splitlines()[-1] and len(pages) < MAX_PAGES:
        pages.append(phone.ask("MORE"))
    return "\n".join(pages)


def person(app: Flask, locale: str, region: str | None) -> Handset:
    register(app, PERSON, locale, region)
    return Handset(app, PERSON)


# --- The matching rule ----------------------------------------------------------------------

NAMES = PlaceNames.of(
    [
        ("ukraine", None, ["Ukraine", "Україна"]),
        ("kharkiv-oblast", "ukraine", ["Kharkiv oblast", "Харківська область"]),
        ("kharkiv", "kharkiv-oblast", ["Kharkiv", "Харків"]),
        ("bangladesh", None, ["Bangladesh"]),
        ("cox-s-bazar", "bangladesh", ["Cox's Bazar", "কক্সবাজার"]),
        ("sudan", None, ["Sudan", "السودان"]),
    ]
)


@pytest.mark.parametrize(
    ("text", "slug", "rest"),
    [
        ("shelter Kharkiv", "kharkiv", "shelter"),
        ("shelter in Kharkiv oblast", "kharkiv-oblast", "shelter"),  # the longest name wins
        ("притулок ХАРКІВ", "kharkiv", "притулок"),  # any case, any script  # noqa: RUF001
        ("clinic near cox's BAZAR", "cox-s-bazar", "clinic"),  # several words, the apostrophe
        ("food কক্সবাজার", "cox-s-bazar", "food"),
        ("Kharkív", "kharkiv", ""),  # accents folded as search folds them
        ("Kharkiv, Ukraine", "kharkiv", ""),  # one place within the other: the nearer
        ("مأوى في السودان", "sudan", "مأوى"),
    ],
)
def test_a_place_is_named_in_any_language_and_taken_out_of_the_words(
    text: str, slug: str, rest: str
) -> None:
    place = named_place(text, NAMES)
    assert place is not None
    assert (place.slug, place.rest) == (slug, rest)


@pytest.mark.parametrize("text", ["shelter", "Kharkiv Sudan", "Bazar", "warming Atlantis"])
def test_no_place_or_two_unrelated_places_name_no_place(text: str) -> None:
    assert named_place(text, NAMES) is None


def test_a_name_two_places_share_names_neither() -> None:
    shared = PlaceNames.of([("a", None, ["Riverside"]), ("b", None, ["Riverside"])])
    assert named_place("clinic Riverside", shared) is None


# --- By SMS ---------------------------------------------------------------------------------


def test_find_words_and_a_place_searches_that_place_not_the_persons(loaded: Flask) -> None:
    phone = person(loaded, "en", "cox-s-bazar")
    answer = phone.ask("FIND shelter Kharkiv")
    assert answer.startswith("Verified help in Kharkiv:"), answer
    assert KHARKIV_SHELTERS[0] in answer, answer  # the first of several pages
    assert not any(name in answer for name in CXB_SHELTERS), answer
    facts = subscriber_facts(loaded, PERSON)
    assert facts is not None
    assert facts["region"] == "cox-s-bazar"  # the person stays put


def test_find_in_ukrainian_names_the_place_in_ukrainian(loaded: Flask) -> None:
    phone = person(loaded, "uk", "cox-s-bazar")
    answer = phone.ask(f"{keyword('uk', 'FIND')} притулок харків")
    assert answer.startswith(said("uk", "Verified help in %(place)s:", place="Харків")), answer
    assert KHARKIV_SHELTER_UK in answer, answer
    assert "Cox" not in answer


def test_a_place_alone_lists_everything_there_with_its_area_s(loaded: Flask) -> None:
    phone = person(loaded, "en", "cox-s-bazar")
    answer = whole(phone, "FIND Kharkiv")
    assert answer.startswith("Verified help in Kharkiv:"), answer
    assert "Warming and Charging Point" in answer
    assert KHARKIV_OBLAST_HOTLINE in answer  # inherited down the tree, as in Kharkiv's menu


def test_a_multi_word_place_with_an_apostrophe_is_found(loaded: Flask) -> None:
    phone = person(loaded, "en", "kharkiv")
    answer = phone.ask("find SHELTER in cox's bazar")
    assert answer.startswith("Verified help in Cox's Bazar:"), answer
    assert any(name in answer for name in CXB_SHELTERS), answer
    assert "Kharkiv" not in answer


def test_without_a_chosen_place_a_named_place_is_searched_at_once(loaded: Flask) -> None:
    phone = person(loaded, "en", None)
    answer = whole(phone, "FIND warming Kharkiv")
    assert answer.startswith("Verified help in Kharkiv:"), answer
    assert "Warming and Charging Point" in answer
    assert FICTION_PHONE.search(answer)


@pytest.mark.parametrize(
    ("locale", "text", "place"),
    [("en", "shelter Kharkiv", "Kharkiv"), ("uk", "Харків", "Харків")],
)
def test_a_bare_search_that_names_a_place_searches_there(
    loaded: Flask, locale: str, text: str, place: str
) -> None:
    phone = person(loaded, locale, "cox-s-bazar")
    answer = phone.ask(text)
    assert answer.startswith(said(locale, "Verified help in %(place)s:", place=place)), answer
    assert "Cox" not in answer


def test_nothing_found_in_the_named_place_says_where_it_looked(loaded: Flask) -> None:
    phone = person(loaded, "en", "kharkiv")
    answer = phone.ask("FIND zzyzx Cox's Bazar")
    assert answer == (
        "No verified help found for that in Cox's Bazar. Reply 1 to search again, 0 for menu."
    )


def test_an_unknown_place_searches_the_persons_region_as_before(loaded: Flask) -> None:
    phone = person(loaded, "en", "kharkiv-oblast")
    answer = phone.ask("FIND warming")
    unknown = phone.ask("FIND warming Atlantis")
    assert "Verified help in" not in answer + unknown
    assert "Warming" in answer


def test_an_ambiguous_place_searches_the_persons_region_as_before(loaded: Flask) -> None:
    with db.get_database(loaded).session() as session:
        sudan = session.scalar(select(Region).where(Region.slug == "sudan"))
        assert sudan is not None
        session.add(
            Region(
                slug="kharkiv-sd",
                name="Kharkiv",
                kind=RegionKind.SITE,
                parent=sudan,
                country_code="SD",
                timezone="Africa/Khartoum",
                default_locale="ar",
            )
        )
        session.commit()
    phone = person(loaded, "en", "kharkiv-oblast")
    answer = whole(phone, "FIND shelter Kharkiv")
    assert "Verified help in" not in answer
    assert "Warming and Charging Point" in answer  # shelters of the person's own region


# --- On the web and in the API ----------------------------------------------------------------


def test_the_web_search_names_the_place_it_searched(loaded: Flask, client: FlaskClient) -> None:
    page = client.get("/en/resources", query_string={"q": "shelter Kharkiv"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Searched in Kharkiv." in html
    assert all(name in html for name in KHARKIV_SHELTERS)
    assert not any(name.replace("'", "&#39;") in html for name in CXB_SHELTERS)
    assert '<option value="kharkiv" selected>' in html  # the form shows where it looked


def test_the_web_search_in_ukrainian_finds_the_place_by_its_ukrainian_name(
    loaded: Flask, client: FlaskClient
) -> None:
    html = client.get("/uk/resources", query_string={"q": "Харків"}).get_data(as_text=True)
    searched = str(catalogue("uk").gettext("Searched in %(place)s.")) % {"place": "Харків"}
    assert searched in html
    assert KHARKIV_SHELTER_UK in html


def test_words_never_move_the_web_search_out_of_the_chosen_area(
    loaded: Flask, client: FlaskClient
) -> None:
    html = client.get(
        "/en/resources", query_string={"q": "shelter Kharkiv", "region": "bangladesh"}
    ).get_data(as_text=True)
    assert "Searched in Bangladesh." in html
    assert "Safe Shelter for Women and Children, Kharkiv" not in html


def api(client: FlaskClient, **query: str) -> Any:
    response = client.get("/api/v1/resources", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_api_searches_a_place_named_in_q_and_says_where(
    loaded: Flask, client: FlaskClient
) -> None:
    found = api(client, q="shelter Kharkiv")
    assert found["searched_in"] == {"region": "kharkiv", "name": "Kharkiv"}
    names = [item["name"] for item in found["items"]]
    assert any(name.startswith(KHARKIV_SHELTERS[0]) for name in names), names
    assert not any("Cox" in name for name in names), names
    assert all(item["scope"] is not None for item in found["items"])


def test_the_api_keeps_the_region_asked_for_when_q_names_a_place_outside_it(
    loaded: Flask, client: FlaskClient
) -> None:
    assert api(client, q="clinic", region="kharkiv")["searched_in"]["region"] == "kharkiv"
    outside = api(client, q="shelter Kharkiv", region="bangladesh")
    assert outside["searched_in"]["region"] == "bangladesh"
    assert api(client, q="clinic")["searched_in"] is None
