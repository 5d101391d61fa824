"""The public pages: what a person sees, what they never see, and what the server never keeps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import db
from server.models.bulletins import Bulletin
from server.models.content import Resource
from server.web import caching
from tests.checkin_helpers import Clock
from tests.web_world import NOW, SECRETS, demo, world

__all__ = ["demo", "world"]

WORLD_PAGES = (
    "/en/",
    "/en/resources",
    "/en/resources?region=east",
    "/en/resources/fresh-clinic",
    "/en/resources/safe-house",
    "/en/info",
    "/en/secure",
    "/en/secure/phone",
    "/en/about",
    "/en/about/privacy",
    "/en/checkin",
)


@pytest.fixture
def clock(app: Flask) -> Clock:
    """The time the app's pages are shown for, moved by the test instead of sleeping."""
    clock = Clock(datetime.now(UTC))
    caching.init_app(app, clock=lambda: clock.now)
    return clock


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


class Links(HTMLParser):
    """The href of every link, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value or "" for name, value in attrs if name == "href")


def hrefs(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


def test_the_start_page_sends_the_browser_to_its_own_language(world: FlaskClient) -> None:
    response = world.get("/", headers={"Accept-Language": "ar-SD,ar;q=0.9,en;q=0.5"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/ar/"
    assert "Accept-Language" in response.headers["Vary"]
    assert world.get("/", headers={"Accept-Language": "xx"}).headers["Location"] == "/en/"
    assert "Set-Cookie" not in response.headers


def test_arabic_pages_are_right_to_left_and_burmese_left_to_right(world: FlaskClient) -> None:
    assert '<html lang="ar" dir="rtl">' in page(world, "/ar/resources")
    assert '<html lang="my" dir="ltr">' in page(world, "/my/resources")
    assert '<html lang="rhg-Latn" dir="ltr">' in page(world, "/rhg/")


def test_a_language_the_instance_does_not_serve_is_not_found(world: FlaskClient) -> None:
    assert world.get("/de/resources").status_code == 404
    assert world.get("/../etc/passwd").status_code == 404


def test_results_give_tel_and_whatsapp_links_and_the_check_date(world: FlaskClient) -> None:
    html = page(world, "/en/resources?region=east")
    links = hrefs(html)
    assert "tel:+447700900001" in links
    assert "https://wa.me/447700900002" in links
    assert "Checked on" in html
    assert str(NOW.date() - timedelta(days=5)) in html


def test_a_stale_resource_is_marked_and_hidden_where_its_region_says(world: FlaskClient) -> None:
    east = page(world, "/en/resources?region=east")
    helpline = east[east.index("Stale Helpline") :]
    assert "Not re-checked recently" in helpline[: helpline.find("</article>")]
    clinic = east[east.index("Fresh Clinic") :]
    assert "Not re-checked recently" not in clinic[: clinic.find("</article>")]
    north = page(world, "/en/resources?region=north")
    assert "Hidden Stale Line" not in north
    assert world.get("/en/resources/hidden-stale-line").status_code == 404


def test_a_retired_resource_is_nowhere(world: FlaskClient) -> None:
    assert "Retired Kitchen" not in page(world, "/en/resources")
    assert world.get("/en/resources/retired-kitchen").status_code == 404


def test_filters_narrow_the_results(world: FlaskClient) -> None:
    shelters = page(world, "/en/resources?category=shelter")
    assert "Safe House" in shelters
    assert "Fresh Clinic" not in shelters
    found = page(world, "/en/resources?q=clinic")
    assert "Fresh Clinic" in found
    assert "Stale Helpline" not in found


def test_content_shows_in_the_readers_language_when_translated(world: FlaskClient) -> None:
    assert "عيادة جديدة" in page(world, "/ar/resources?region=east")
    assert "عيادة جديدة" not in page(world, "/fr/resources?region=east")


@pytest.mark.parametrize(
    "path",
    [
        "/en/resources?category=weapons",
        "/en/resources?page=0",
        "/en/resources?page=x",
    ],
)
def test_bad_filters_are_a_clear_400(world: FlaskClient, path: str) -> None:
    response = world.get(path)
    assert response.status_code == 400
    assert "Something was wrong with that request" in response.get_data(as_text=True)


def test_an_unknown_region_or_record_is_a_404(world: FlaskClient) -> None:
    assert world.get("/en/resources?region=atlantis").status_code == 404
    assert world.get("/en/info?region=atlantis").status_code == 404
    assert world.get("/en/resources/nothing").status_code == 404
    assert world.get("/en/secure/nothing").status_code == 404


def test_a_confidential_place_never_leaves_the_server(world: FlaskClient) -> None:
    for path in WORLD_PAGES:
        html = page(world, path)
        for secret in SECRETS:
            assert secret not in html, (path, secret)
    house = page(world, "/en/resources/safe-house")
    assert "tel:+447700900003" in hrefs(house)
    assert "The address is kept secret for safety" in house


def test_the_public_place_of_a_resource_is_shown(world: FlaskClient) -> None:
    html = page(world, "/en/resources/fresh-clinic")
    assert "Gate 3" in html
    assert "Eastville" in html


def test_only_bulletins_in_force_are_news(world: FlaskClient) -> None:
    html = page(world, "/en/info")
    assert "Bulletin current-alert" in html
    for gone in ("expired-alert", "retracted-alert", "draft-alert", "future-alert"):
        assert f"Bulletin {gone}" not in html
    alert = html[html.index("Bulletin current-alert") :]
    assert "From Test Authority" in alert
    assert "Valid until" in alert
    assert "<strong>current-alert</strong>" in alert


def test_context_notes_say_what_we_know(world: FlaskClient) -> None:
    html = page(world, "/en/info")
    notes = html[html.index("What we know about rumours") :]
    assert "Bulletin rumour-note" in notes
    assert "Bulletin current-alert" not in notes


def test_a_region_sees_the_bulletins_of_the_regions_above_it(world: FlaskClient) -> None:
    east = page(world, "/en/info?region=east")
    assert "Bulletin rumour-note" in east
    north = page(world, "/en/info?region=north")
    assert "Bulletin rumour-note" in north
    assert "Bulletin current-alert" not in north


def test_a_checklist_lists_its_steps_with_boxes_kept_in_the_browser(world: FlaskClient) -> None:
    html = page(world, "/en/secure/phone")
    assert html.count('type="checkbox"') == 2
    assert "Set a PIN" in html
    assert "2 steps left" in html
    assert "localStorage" in html
    assert "refuge" not in html[html.index("var left") :].lower()
    assert world.post("/en/secure/phone").status_code == 405


def test_the_about_page_links_the_privacy_document(world: FlaskClient) -> None:
    assert "Test Relief" in page(world, "/en/about")
    html = page(world, "/en/about/privacy")
    assert "What a seized Refuge server yields" in html
    assert "<table>" in html
    assert html.count("<table>") == html.count('<div class="wide" tabindex="0"><table>')
    arabic = page(world, "/ar/about/privacy")
    assert '<div lang="en" dir="ltr">' in arabic


def test_every_page_has_a_quick_exit_that_works_without_javascript(world: FlaskClient) -> None:
    for path in (*WORLD_PAGES, "/no-such-page"):
        response = world.get(path)
        assert '<a class="exit" href="/exit"' in response.get_data(as_text=True), path
    exit_ = world.get("/exit")
    assert exit_.status_code == 303
    assert exit_.headers["Location"].startswith("https://")
    assert "refuge" not in exit_.headers["Location"].lower()
    assert exit_.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


def test_pages_set_no_cookie_and_are_never_stored(world: FlaskClient) -> None:
    for path in (*WORLD_PAGES, "/", "/exit"):
        response = world.get(path)
        assert "Set-Cookie" not in response.headers, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_every_page_carries_the_security_headers(world: FlaskClient) -> None:
    for path in (*WORLD_PAGES, "/", "/exit", "/en/resources?page=0"):
        headers = world.get(path).headers
        assert "default-src 'none'" in headers["Content-Security-Policy"], path
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_scripts_and_styles_carry_the_nonce_of_their_response(world: FlaskClient) -> None:
    response = world.get("/en/secure/phone")
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce is not None
    html = response.get_data(as_text=True)
    assert html.count("<script") == html.count(f'<script nonce="{nonce.group(1)}">') == 1
    assert html.count("<style") == html.count(f'<style nonce="{nonce.group(1)}">') == 1


def test_a_repeat_visit_with_the_etag_costs_a_304(world: FlaskClient) -> None:
    first = world.get("/en/resources?region=east")
    etag = first.headers["ETag"]
    again = world.get("/en/resources?region=east", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    other = world.get("/ar/resources?region=east", headers={"If-None-Match": etag})
    assert other.status_code == 200
    since = world.get(
        "/en/resources?region=east",
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert since.status_code == 304


def test_an_expiring_bulletin_moves_last_modified(
    app: Flask, world: FlaskClient, clock: Clock
) -> None:
    before = world.get("/en/info")
    expires = clock.now.replace(microsecond=0) + timedelta(seconds=1)
    with db.get_database(app).session() as session:
        alert = session.get(Bulletin, "current-alert")
        assert alert is not None
        alert.expires_at, alert.updated_at = expires, NOW - timedelta(days=30)
    # Expired a second ago, with no edit to the row: the page changed all the same.
    clock.now = expires + timedelta(seconds=1)
    after = world.get("/en/info", headers={"If-Modified-Since": before.headers["Last-Modified"]})
    assert after.status_code == 200
    assert "Bulletin current-alert" not in after.get_data(as_text=True)


def test_a_kept_page_gets_a_fresh_nonce_and_shows_edits_within_a_second(
    app: Flask, world: FlaskClient, clock: Clock
) -> None:
    first, second = world.get("/en/resources"), world.get("/en/resources")
    nonces = [
        re.search(r"script-src 'nonce-([^']+)'", r.headers["Content-Security-Policy"])
        for r in (first, second)
    ]
    assert nonces[0] is not None
    assert nonces[1] is not None
    assert nonces[0].group(1) != nonces[1].group(1)
    assert f'nonce="{nonces[1].group(1)}"' in second.get_data(as_text=True)
    assert first.headers["ETag"] == second.headers["ETag"]
    clock.now += timedelta(seconds=1)  # Last-Modified counts whole seconds
    with db.get_database(app).session() as session:
        clinic = session.get(Resource, "fresh-clinic")
        assert clinic is not None
        clinic.name, clinic.updated_at = "Renamed Clinic", clock.now
    clock.now += caching.STAMP_LIFETIME
    assert "Renamed Clinic" in page(world, "/en/resources")


def test_the_language_list_names_rohingya_in_letters_its_readers_use(world: FlaskClient) -> None:
    html = page(world, "/en/")
    footer = html[html.index('<footer class="lang">') :]
    assert "العربية" in footer
    assert "မြန်မာ" in footer
    assert ">Rohingya<" in footer
    assert not [ch for ch in footer if "\U00010d00" <= ch <= "\U00010d3f"], "Hanifi letters"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    query=st.text(max_size=300),
    region=st.text(max_size=80),
    category=st.text(max_size=30),
    number=st.text(max_size=12),
)
def test_any_filter_input_gets_a_page_or_a_clear_4xx(
    world: FlaskClient, query: str, region: str, category: str, number: str
) -> None:
    response = world.get(
        "/ar/resources",
        query_string={"q": query, "region": region, "category": category, "page": number},
    )
    assert response.status_code in {200, 400, 404}
    assert response.mimetype == "text/html"


@pytest.mark.parametrize(
    "path",
    [
        "/en/resources?region=a%00b",
        "/en/info?region=a%00b",
        "/en/resources?q=a%00b",
        "/en/resources/a%00b",
        "/en/secure/a%00b",
    ],
)
def test_a_nul_character_in_the_address_is_a_400(world: FlaskClient, path: str) -> None:
    assert world.get(path).status_code == 400
