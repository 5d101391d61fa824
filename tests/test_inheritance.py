"""Help inherits down the region tree (issue 17, case 1): a place shows its own first, then its
area's, then its country's, each saying where it applies, by SMS, on the web, in the API and in
search. Cases from the issue on the shipped demo content: Kutupalong camp's helplines are Cox's
Bazar's; Kharkiv city's evacuation help is Kharkiv oblast's; Kharkiv's "Everything" holds 13
resources (6 of the city, 7 of the oblast); someone who chose all of Ukraine hears the verdict
on a rumour debunked for Kharkiv oblast.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import db, segments
from server.content.search import ResourceQuery, index_resource, search_resources
from server.conversation.engine import MAX_PAGES
from server.conversation.library import Library
from server.models.content import Category, Region, Resource, ResourceCategory
from tests.checkin_helpers import register
from tests.sms_helpers import (
    EVERYTHING,
    Handset,
    handset_number,
    keyword,
    load_demo_content,
    over_budget,
    settings_of,
)

#: Menu numbers of two categories (label order: Helplines first, Evacuation ninth).
HELPLINES, EVACUATION = "1", "9"
#: Kharkiv city's own resources, and Kharkiv oblast's (demo content).
KHARKIV_CITY = {
    "sample-kharkiv-document-restoration",
    "sample-kharkiv-legal-consultations",
    "sample-kharkiv-transit-centre",
    "sample-kharkiv-trauma-first-aid",
    "sample-kharkiv-warming-point",
    "sample-kharkiv-womens-shelter",
}
KHARKIV_OBLAST = {
    "sample-kharkiv-evacuation-hotline",
    "sample-kharkiv-evacuation-transport",
    "sample-kharkiv-family-tracing",
    "sample-kharkiv-mobile-clinic",
    "sample-kharkiv-psychological-support-line",
    "sample-kharkiv-rumour-feedback-line",
    "sample-kharkiv-violence-survivor-support",
}
#: A line for the whole country, added by the tests that need one (the demo has none).
COUNTRY_LINE = "test-ukraine-national-hotline"
TRAP_RUMOUR = "the evacuation buses are a trap"


@pytest.fixture
def demo(app: Flask) -> FlaskClient:
    """A client of an app holding the shipped demo content."""
    load_demo_content(app)
    return app.test_client()


@pytest.fixture
def with_country_line(app: Flask, demo: FlaskClient) -> FlaskClient:
    """The demo content and one helpline for all of Ukraine."""
    with db.get_database(app).session() as session:
        ukraine = session.scalar(select(Region).where(Region.slug == "ukraine"))
        assert ukraine is not None
        resource = Resource(
            id=COUNTRY_LINE,
            organization_id="sample-kharkiv-evacuation-network",
            region_id=ukraine.id,
            name="National Displacement Hotline (test)",
            description="For anyone displaced anywhere in the country.",
            verified_on=datetime.now(UTC).date(),
            verified_by="Test field team",
            review_interval_days=90,
            retired=False,
        )
        resource.categories.append(ResourceCategory(category=Category.HELPLINE))
        session.add(resource)
        session.flush()
        index_resource(session, resource)
    return demo


def person(app: Flask, index: int, region: str, locale: str = "en") -> Handset:
    """A known person who chose `region`, texting in `locale`."""
    number = handset_number(400 + index)
    register(app, number, locale, region)
    return Handset(app, number)


def find(handset: Handset, category: str, locale: str = "en") -> str:
    """The answer to FIND, then a category number, with every page MORE brings."""
    handset.ask(keyword(locale, "FIND"))
    return "\n".join(every_page(handset, handset.ask(category), locale))


def every_page(handset: Handset, first: str, locale: str = "en") -> list[str]:
    """A reply and the pages MORE brings after it, each within its segment budget."""
    pages = [first]
    while keyword(locale, "MORE") in pages[-1] and len(pages) <= MAX_PAGES:
        pages.append(handset.ask(keyword(locale, "MORE")))
    assert all(not over_budget(page) for page in pages), pages
    return pages


def api(client: FlaskClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


# --- SMS --------------------------------------------------------------------------------------


def test_kutupalong_helplines_by_sms_are_cox_s_bazar_s_and_say_so(
    app: Flask, demo: FlaskClient
) -> None:
    answer = find(person(app, 0, "kutupalong"), HELPLINES)
    assert "No verified help" not in answer
    assert "Protection Helpline (sample)" in answer
    assert "For all of Cox's Bazar" in answer


def test_the_label_speaks_the_person_s_language_with_the_content_s_region_name(
    app: Flask, demo: FlaskClient
) -> None:
    answer = find(person(app, 1, "kutupalong", "bn"), HELPLINES, "bn")
    assert "পুরো এলাকার জন্য: কক্সবাজার" in answer  # "for the whole area: Cox's Bazar"


def test_kharkiv_city_evacuation_by_sms_finds_the_oblast_s_hotline_and_transport(
    app: Flask, demo: FlaskClient
) -> None:
    answer = find(person(app, 2, "kharkiv"), EVACUATION)
    assert "Evacuation Hotline, Kharkiv Oblast (sample)" in answer
    assert "Evacuation Transport to the Kharkiv Transit Centre (sample)" in answer
    assert answer.count("For all of Kharkiv oblast") == 2


def test_kharkiv_everything_by_sms_lists_the_city_s_own_before_the_oblast_s(
    app: Flask, demo: FlaskClient
) -> None:
    answer = find(person(app, 3, "kharkiv"), str(EVERYTHING))
    own = answer.index("Document Restoration Help, Kharkiv (sample)")
    assert own < answer.index("For all of Kharkiv oblast")
    assert answer.count("For all of Kharkiv oblast") == 7  # all 13 reached with MORE
    assert answer.count("Checked ") == 13
    with db.get_database(app).session() as session:
        library = Library(session, settings_of(app).localization, date.today())
        lines = library.resources("kharkiv", None, "en", 0, 20)
    assert len(lines) == 13
    assert [line.applies for line in lines] == [""] * 6 + ["For all of Kharkiv oblast"] * 7


def test_an_area_by_sms_shows_the_country_s_line_after_its_own(
    app: Flask, with_country_line: FlaskClient
) -> None:
    answer = find(person(app, 4, "kharkiv-oblast"), HELPLINES)
    assert answer.index("Psychological Support Line") < answer.index("National Displacement")
    assert "For all of Ukraine" in answer


def test_a_site_by_sms_inherits_from_its_area_and_its_country(
    app: Flask, with_country_line: FlaskClient
) -> None:
    answer = find(person(app, 5, "kharkiv"), HELPLINES)
    assert answer.index("For all of Kharkiv oblast") < answer.index("For all of Ukraine")


def test_a_country_by_sms_shows_what_lies_within_it(
    app: Flask, with_country_line: FlaskClient
) -> None:
    answer = find(person(app, 6, "ukraine"), EVACUATION)
    assert "Evacuation Hotline, Kharkiv Oblast (sample)" in answer
    assert "For all of" not in answer  # nothing here is wider than the country


def test_news_by_sms_shows_the_place_s_own_then_the_area_s_labelled(
    app: Flask, demo: FlaskClient
) -> None:
    handset = person(app, 7, "kharkiv")
    text = "\n".join(every_page(handset, handset.ask(keyword("en", "NEWS"))))
    assert "For all of Kharkiv oblast" in text
    assert text.index("Warming points") < text.index("For all of Kharkiv oblast")


def test_a_rumour_check_at_a_site_uses_the_area_s_note_and_says_where_it_applies(
    app: Flask, demo: FlaskClient
) -> None:
    answer = person(app, 8, "kharkiv").ask(f"{keyword('en', 'CHECK')} {TRAP_RUMOUR}")
    assert "could not confirm" not in answer
    assert "evacuation buses are a trap" in answer
    assert "For all of Kharkiv oblast" in answer


def test_a_rumour_check_for_the_whole_country_finds_the_verdict_given_for_an_area(
    app: Flask, demo: FlaskClient
) -> None:
    answer = person(app, 9, "ukraine").ask(f"{keyword('en', 'CHECK')} {TRAP_RUMOUR}")
    assert "could not confirm" not in answer
    assert "evacuation buses are a trap" in answer
    assert "Applies to: Kharkiv oblast" in answer
    assert not over_budget(answer)


def test_a_rumour_check_in_a_camp_uses_cox_s_bazar_s_note(app: Flask, demo: FlaskClient) -> None:
    answer = person(app, 10, "kutupalong").ask(
        f"{keyword('en', 'CHECK')} the aid water is poisoned"
    )
    assert "could not confirm" not in answer
    assert "For all of Cox's Bazar" in answer


def test_a_rumour_of_another_area_is_not_answered_for_a_site_elsewhere(
    app: Flask, demo: FlaskClient
) -> None:
    answer = person(app, 11, "kutupalong").ask(f"{keyword('en', 'CHECK')} {TRAP_RUMOUR}")
    assert "could not confirm" in answer


@pytest.mark.parametrize("locale", ["ar", "my", "uk", "rhg"])
def test_labelled_answers_keep_their_segment_budget_in_every_script(
    app: Flask, demo: FlaskClient, locale: str
) -> None:
    found = find(person(app, 12, "kharkiv", locale), EVACUATION, locale)  # every page measured
    checked = person(app, 13, "ukraine", locale).ask(f"{keyword(locale, 'CHECK')} {TRAP_RUMOUR}")
    assert not over_budget(checked), (segments.measure(checked), checked)
    assert "%(region)s" not in found + checked
    label = {"ar": "لكل أنحاء", "my": "တစ်ခုလုံးအတွက်", "uk": "Для всієї території", "rhg": "Fura"}
    assert label[locale] in found


# --- Web --------------------------------------------------------------------------------------


def test_kutupalong_helplines_on_the_web_include_cox_s_bazar_s(demo: FlaskClient) -> None:
    html = page(demo, "/en/resources?region=kutupalong&category=helpline")
    assert "Protection Helpline (sample)" in html
    assert "For all of Cox&#39;s Bazar" in html


def test_kharkiv_evacuation_on_the_web_finds_the_oblast_s_hotline_and_transport(
    demo: FlaskClient,
) -> None:
    html = page(demo, "/en/resources?region=kharkiv&category=evacuation")
    assert "Evacuation Hotline, Kharkiv Oblast (sample)" in html
    assert "Evacuation Transport to the Kharkiv Transit Centre (sample)" in html
    assert html.count("For all of Kharkiv oblast") == 2
    # The detail page, reached from this list, says where the resource applies.
    assert "region=kharkiv" in html
    detail = page(demo, "/en/resources/sample-kharkiv-evacuation-hotline?region=kharkiv")
    assert "For all of Kharkiv oblast" in detail


def test_kharkiv_everything_on_the_web_counts_13_the_city_s_first(demo: FlaskClient) -> None:
    html = page(demo, "/en/resources?region=kharkiv")
    assert "13" in html
    assert html.index("Document Restoration Help") < html.index("For all of Kharkiv oblast")
    assert "Warming and Charging Point" in html  # the city's own, all on the first page


def test_ukrainian_pages_label_in_ukrainian_with_the_region_s_ukrainian_name(
    demo: FlaskClient,
) -> None:
    html = page(demo, "/uk/resources?region=kharkiv&category=evacuation")
    assert "Для всієї території: Харківська область" in html


def test_web_search_within_a_camp_includes_cox_s_bazar_s_resources(demo: FlaskClient) -> None:
    html = page(demo, "/en/resources?region=kutupalong&q=helpline")
    assert "Protection Helpline (sample)" in html
    assert "For all of Cox&#39;s Bazar" in html


def test_news_on_the_web_labels_the_area_s_bulletins(demo: FlaskClient) -> None:
    html = page(demo, "/en/info?region=kharkiv")
    assert "For all of Kharkiv oblast" in html
    assert html.index("Warming") < html.index("For all of Kharkiv oblast")


def test_an_area_on_the_web_shows_the_country_s_line_labelled(
    with_country_line: FlaskClient,
) -> None:
    html = page(with_country_line, "/en/resources?region=kharkiv-oblast&category=helpline")
    assert "National Displacement Hotline (test)" in html
    assert "For all of Ukraine" in html
    country = page(with_country_line, "/en/resources?region=ukraine&category=helpline")
    assert "Evacuation Hotline, Kharkiv Oblast (sample)" in country
    assert "For all of" not in country


# --- API --------------------------------------------------------------------------------------


def test_kharkiv_evacuation_in_the_api_carries_each_item_s_scope(demo: FlaskClient) -> None:
    found = api(demo, "/api/v1/resources?region=kharkiv&category=evacuation")
    scopes = {item["id"]: item["scope"] for item in found["items"]}
    oblast = {"region": "kharkiv-oblast", "name": "Kharkiv oblast", "distance": 1}
    assert scopes == {
        "sample-kharkiv-evacuation-hotline": oblast,
        "sample-kharkiv-evacuation-transport": oblast,
    }
    one = api(demo, "/api/v1/resources/sample-kharkiv-evacuation-hotline?region=kharkiv")
    assert one["scope"] == oblast
    assert api(demo, "/api/v1/resources/sample-kharkiv-evacuation-hotline")["scope"] is None


def test_kharkiv_everything_in_the_api_is_13_nearest_first(demo: FlaskClient) -> None:
    first = api(demo, "/api/v1/resources?region=kharkiv&per_page=10")
    second = api(demo, "/api/v1/resources?region=kharkiv&per_page=10&page=2")
    items = first["items"] + second["items"]
    assert first["total"] == 13
    assert {item["id"] for item in items} == KHARKIV_CITY | KHARKIV_OBLAST
    assert [item["scope"]["distance"] for item in items] == [0] * 6 + [1] * 7


def test_kutupalong_helplines_in_the_api_and_its_search(demo: FlaskClient) -> None:
    listed = api(demo, "/api/v1/resources?region=kutupalong&category=helpline")
    searched = api(demo, "/api/v1/resources?region=kutupalong&q=helpline")
    for found in (listed, searched):
        ids = {item["id"] for item in found["items"]}
        assert "sample-cxb-protection-helpline" in ids
        assert {item["scope"]["region"] for item in found["items"]} <= {"kutupalong", "cox-s-bazar"}


def test_a_country_in_the_api_shows_places_within_it_at_a_negative_distance(
    with_country_line: FlaskClient,
) -> None:
    found = api(with_country_line, "/api/v1/resources?region=ukraine&per_page=100")
    scopes = {item["id"]: item["scope"]["distance"] for item in found["items"]}
    assert found["total"] == 14
    assert scopes[COUNTRY_LINE] == 0
    assert scopes["sample-kharkiv-evacuation-hotline"] == -1
    assert scopes["sample-kharkiv-warming-point"] == -2
    area = api(with_country_line, "/api/v1/resources?region=kharkiv-oblast&category=helpline")
    assert area["items"][-1]["id"] == COUNTRY_LINE
    assert area["items"][-1]["scope"] == {"region": "ukraine", "name": "Ukraine", "distance": 1}


def test_api_bulletins_for_a_site_list_its_own_then_its_area_s_with_scopes(
    demo: FlaskClient,
) -> None:
    items = api(demo, "/api/v1/bulletins?region=kharkiv")["items"]
    distances = [item["scope"]["distance"] for item in items]
    assert distances == sorted(distances)
    assert {"region": "kharkiv-oblast", "name": "Kharkiv oblast", "distance": 1} in [
        item["scope"] for item in items
    ]
    assert all(item["scope"] is None for item in api(demo, "/api/v1/bulletins")["items"])


def test_api_scope_names_the_region_in_the_requested_language(demo: FlaskClient) -> None:
    found = api(demo, "/api/v1/resources?region=kutupalong&category=helpline&locale=bn")
    assert {item["scope"]["name"] for item in found["items"]} == {"কক্সবাজার"}


# --- Search -----------------------------------------------------------------------------------


def test_search_ranks_a_place_s_own_matches_before_its_area_s(
    app: Flask, with_country_line: FlaskClient
) -> None:
    with db.get_database(app).session() as session:
        kharkiv = session.scalar(select(Region.id).where(Region.slug == "kharkiv"))
        hits = search_resources(session, ResourceQuery(text="kharkiv", region_id=kharkiv))
        paged = [
            hit
            for offset in range(0, 12, 3)
            for hit in search_resources(
                session, ResourceQuery(text="kharkiv", region_id=kharkiv, offset=offset, limit=3)
            )
        ]
    tiers = [hit.above for hit in hits]
    assert tiers == sorted(tiers)
    assert {0, 1} <= set(tiers)
    assert {hit.resource_id for hit in hits if hit.above == 1} <= KHARKIV_OBLAST
    assert [hit.resource_id for hit in paged] == [hit.resource_id for hit in hits][:12]
