"""What a resource is, on every channel: closed or open, when, in which languages, checked by
whom (issue 17, item 6).

"Temporarily closed" was shown nowhere, opening hours were stored but never shown, languages
came as codes (`en, ru, uk`) and SMS left out who verified a resource. Now SMS, the web list and
the detail page show the status, the hours and the languages named in the reader's language
(CLDR), and SMS says who checked each resource.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel import Locale
from flask import Flask
from flask.testing import FlaskClient

from server import segments
from server.content.labels import CATEGORY_NAMES
from server.i18n.locales import catalogue
from server.models.content import Category
from tests.checkin_helpers import Clock, Phone, register
from tests.sms_helpers import digits, keyword, load_demo_content

NOW = datetime(2026, 11, 26, 10, 20, tzinfo=UTC)
PERSON = "+44 7700 900691"
CLINIC = "Mobile Clinic for Frontline Villages (sample)"
CLINIC_UK = "Мобільна клініка для прифронтових сіл (зразок)"
CLINIC_CHECKER = "Sample Kharkiv Health Cluster field team"
#: The partner's note on the clinic's status, in the demo content's English and Ukrainian.
CLINIC_NOTE = {
    "en": "The vehicle is being repaired. Call to hear when visits start again.",
    "uk": "Автомобіль ремонтують. Зателефонуйте, щоб дізнатися, коли візити відновляться.",
}


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def said(locale: str, english: str, **values: str) -> str:
    text = str(catalogue(locale).gettext(english))
    return segments.prepare(text % values if values else text, segments.AccentPolicy.KEEP)


def names(locale: str, codes: tuple[str, ...]) -> list[str]:
    """Language names as CLDR spells them in the reader's language."""
    return [str(Locale.parse(locale).languages[code]) for code in codes]


def category(code: Category, locale: str) -> str:
    """A category's number in the "what do you need?" menu."""
    return digits(list(CATEGORY_NAMES).index(code) + 1, locale)


def block(reply: str, name: str) -> list[str]:
    """The lines of one resource in an SMS list (resources are separated by a blank line)."""
    return next(part.split("\n") for part in reply.split("\n\n") if part.startswith(name))


def every_page(phone: Phone, first: str, locale: str) -> str:
    pages = [first]
    more = str(catalogue(locale).gettext("Reply MORE for more"))
    while more in pages[-1].rsplit("\n", 1)[-1]:
        pages.append(phone.ask(keyword(locale, "MORE")))
    return "\n".join(page.rsplit("\n", 1)[0] if more in page else page for page in pages)


@pytest.mark.parametrize(("locale", "name"), [("en", CLINIC), ("uk", CLINIC_UK)])
def test_sms_says_a_resource_is_closed_who_checked_it_and_its_languages_by_name(
    loaded: Flask, locale: str, name: str
) -> None:
    register(loaded, PERSON, locale, "kharkiv-oblast")
    phone = Phone(loaded, PERSON, Clock(NOW))
    phone.ask(keyword(locale, "FIND"))
    listed = every_page(phone, phone.ask(category(Category.MEDICAL, locale)), locale)
    lines = block(listed, name)
    assert lines[1] == said(locale, "Temporarily closed: %(note)s", note=CLINIC_NOTE[locale])
    assert any(CLINIC_CHECKER in line for line in lines), lines
    prefix = said(locale, "Languages: %(names)s").split("%(")[0]
    languages = next(line for line in lines if line.startswith(prefix))
    assert sorted(languages.removeprefix(prefix).split(", ")) == sorted(
        names(locale, ("uk", "ru", "en"))
    )


def test_sms_shows_opening_hours_in_the_readers_language(loaded: Flask) -> None:
    register(loaded, PERSON, "uk", "kharkiv")
    phone = Phone(loaded, PERSON, Clock(NOW))
    phone.ask(keyword("uk", "FIND"))
    listed = every_page(phone, phone.ask(category(Category.LEGAL_AID, "uk")), "uk")
    days = Locale.parse("uk").days["format"]["abbreviated"]
    hours = said("uk", "Open: %(hours)s", hours=f"{days[0]}-{days[4]} 10:00-17:00")
    assert hours in listed, listed


def test_the_web_detail_page_shows_closed_hours_and_language_names(loaded: Flask) -> None:
    client: FlaskClient = loaded.test_client()
    clinic = client.get("/en/resources/sample-kharkiv-mobile-clinic").get_data(as_text=True)
    assert f"Temporarily closed: {CLINIC_NOTE['en']}" in clinic
    for name in ("Ukrainian", "Russian", "English"):
        assert name in clinic
    assert "en, ru, uk" not in clinic
    legal = client.get("/ar/resources/sample-kharkiv-legal-consultations").get_data(as_text=True)
    for name in names("ar", ("uk", "ru", "en")):
        assert name in legal
    days = Locale.parse("ar").days["format"]["abbreviated"]
    assert f"{days[0]}-{days[4]} 10:00-17:00" in legal


def test_the_web_list_marks_a_closed_resource_and_shows_hours(loaded: Flask) -> None:
    client: FlaskClient = loaded.test_client()
    listing = client.get("/en/resources?region=kharkiv-oblast").get_data(as_text=True)
    card = listing.split(CLINIC, 1)[1].split("</article>", 1)[0]
    assert f"Temporarily closed: {CLINIC_NOTE['en']}" in card
    assert "Mon-Fri 10:00-17:00" in listing  # the legal consultations in Kharkiv city
