"""The web as a person finds it: the check-in is reachable and keeps the no-cookie promise
without losing its CSRF defence; the about page speaks to people in their language; the quick
exit says what it cannot erase; region links and dates read cleanly."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import db, vault
from server.app import create_app
from server.config import Settings, app_settings
from server.web import checkin
from tests.web_world import demo, world

__all__ = ["demo", "world"]

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ALERT = re.compile(r'<p class="answer error" role="alert">([^<]*)</p>')
REFUSED = "This form was too old or did not come from this site."
SHIPPED = ("en", "ar", "bn", "fr", "my", "rhg", "uk")


def _token(client: FlaskClient, locale: str = "en") -> str:
    response = client.get(f"/{locale}/checkin")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    found = TOKEN.search(response.get_data(as_text=True))
    assert found is not None
    return found[1]


def _post(client: FlaskClient, token: str | None, **headers: str) -> tuple[int, str, bool]:
    form = {"number": "+44 7700 900811", "pin": "482193", "code": "123456"}
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/en/checkin", data=form, headers=headers)
    alert = ALERT.search(response.get_data(as_text=True))
    assert alert is not None, response.get_data(as_text=True)
    return response.status_code, alert[1], "Set-Cookie" in response.headers


def test_the_checkin_is_linked_from_home_and_the_navigation(world: FlaskClient) -> None:
    home = world.get("/fr/").get_data(as_text=True)
    assert home.count('href="/fr/checkin"') == 2  # the site's navigation and the home page's list
    about = world.get("/fr/about").get_data(as_text=True)
    assert 'href="/fr/checkin"' in about


def test_the_checkin_page_has_the_navigation_language_links_and_quick_exit(app: Flask) -> None:
    page = app.test_client().get("/uk/checkin").get_data(as_text=True)
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert 'href="/uk/"' in nav
    assert 'href="/uk/resources"' in nav
    assert 'href="/ar/checkin"' in page  # the language links
    assert 'href="/fr/checkin"' in page
    assert 'href="/uk/about"' in page
    assert '<a class="exit" href="/exit"' in page
    assert "location.replace" in page  # the quick exit's script runs here too


def test_the_checkin_page_sets_no_cookie(app: Flask) -> None:
    client = app.test_client()
    token = _token(client)
    status, _answer, cookie = _post(client, token)
    assert status == 400  # the form went through to the check itself (nobody has this number)
    assert not cookie
    assert client.get_cookie("session") is None


@pytest.mark.parametrize(
    "forge",
    [
        lambda settings, real: None,  # no token at all
        lambda settings, real: "",
        lambda settings, real: real[:-2] + ("AA" if not real.endswith("AA") else "BB"),
        lambda settings, real: "9" + real,  # issued later than it was
        lambda settings, real: vault.form_token(b"k" * 32, checkin.FORM, time.time()),
        lambda settings, real: vault.form_token(settings.secret_key, "other-form", time.time()),
        lambda settings, real: vault.form_token(  # expired
            settings.secret_key, checkin.FORM, time.time() - checkin.TOKEN_AGE - 5
        ),
        lambda settings, real: "1.2.3.4",
        lambda settings, real: "١٢٣.abc.def",
    ],
)
def test_a_missing_forged_or_expired_token_is_refused_plainly(
    app: Flask, forge: Callable[[Settings, str], str | None]
) -> None:
    client = app.test_client()
    real = _token(client)
    status, answer, cookie = _post(client, forge(app_settings(app), real))
    assert status == 400
    assert answer.startswith(REFUSED)
    assert not cookie


def test_a_post_from_another_site_is_refused_even_with_a_good_token(app: Flask) -> None:
    client = app.test_client()
    status, answer, _cookie = _post(client, _token(client), **{"Sec-Fetch-Site": "cross-site"})
    assert (status, answer.startswith(REFUSED)) == (400, True)
    status, answer, _cookie = _post(client, _token(client), **{"Sec-Fetch-Site": "same-origin"})
    assert status == 400
    assert not answer.startswith(REFUSED)  # past the CSRF check: the check-in itself failed


def test_the_about_page_speaks_to_people_in_their_language(world: FlaskClient) -> None:
    english = world.get("/en/about").get_data(as_text=True)
    assert "Text DELETE" in english
    assert "STOP only stops messages" in english
    assert "What a seized Refuge server yields" not in english  # linked, not embedded
    assert 'href="/en/about/privacy"' in english
    assert "the Back button may still show" in english
    technical = world.get("/en/about/privacy").get_data(as_text=True)
    assert "What a seized Refuge server yields" in technical
    for locale in SHIPPED[1:]:
        page = world.get(f"/{locale}/about").get_data(as_text=True)
        assert '<div lang="en" dir="ltr">' not in page, locale
        assert "DELETE" in page, locale
        assert "Text DELETE" not in page, locale  # translated, not the English sentence
        assert f'href="/{locale}/about/privacy"' in page, locale


def test_the_about_page_names_the_operator_from_settings(
    make_settings: Callable[..., Settings],
) -> None:
    named = create_app(make_settings(REFUGE_OPERATOR_NAME="  Harbour  Aid  Network "))
    db.Base.metadata.create_all(db.get_database(named).engine)
    page = named.test_client().get("/en/about").get_data(as_text=True)
    assert "This Refuge service is run by Harbour Aid Network." in page
    db.get_database(named).dispose()


def test_the_home_page_says_what_quick_exit_does_not_erase(world: FlaskClient) -> None:
    home = world.get("/en/").get_data(as_text=True)
    assert "What Quick exit does not erase" in home


def test_region_links_underline_only_their_names(world: FlaskClient) -> None:
    home = world.get("/en/").get_data(as_text=True)
    links = re.findall(r'<a href="/en/resources\?region=[^"]+" class="links">([^<]*)</a>', home)
    assert "East" in links
    assert all(name == name.strip("\u2003 ") for name in links)
    assert "<li>\u2003<a" in home  # the indentation stays, outside the link


def test_dates_stay_whole_and_left_to_right_in_arabic(world: FlaskClient) -> None:
    page = world.get("/ar/resources/fresh-clinic").get_data(as_text=True)
    assert re.search(r'<bdi dir="ltr">\d{4}-\d{2}-\d{2}</bdi>', page)
    assert ".meta bdi{white-space:nowrap}" in page
