"""A translation made from an older English text is marked, on pages and by SMS (issue 19).

`REFUGE_STALE_TRANSLATIONS` says per locale what to do with it: `mark` (the default) shows the
translation with "This translation may be out of date."; `fallback` shows the next language of
the chain instead (English at last), unmarked. Before, pages and replies showed it unmarked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from server import db, segments
from server.app import create_app
from server.config import Settings
from server.content.labels import CATEGORY_NAMES
from server.i18n.locales import catalogue
from server.models.bulletins import Bulletin
from server.models.checklists import ChecklistStep
from server.models.content import Category, Resource
from server.models.translations import Translation, source_digest
from server.web import caching
from tests.checkin_helpers import Clock, Phone, register
from tests.sms_helpers import digits, keyword, load_demo_content
from tests.web_world import NOW, build

CLOCK = Clock(datetime.now(UTC))
OUTDATED = "This translation may be out of date."
CLINIC_AR = "عيادة جديدة"
ALERT_UK = "Тривога: поточне сповіщення"


def mark(locale: str) -> str:
    return str(catalogue(locale).gettext(OUTDATED))


def _world(app: Flask) -> FlaskClient:
    """The web test world, with a Ukrainian bulletin title made from the English one; pages
    are kept by the time of `CLOCK`, which `_edit_sources` moves on."""
    caching.init_app(app, clock=lambda: CLOCK.now)
    with db.get_database(app).session() as session:
        build(session)
        session.add(
            Translation(
                entity="bulletin",
                entity_id="current-alert",
                field="title",
                locale="uk",
                text=ALERT_UK,
                source_digest=source_digest("Bulletin current-alert"),
                updated_at=NOW - timedelta(days=3),
            )
        )
    return app.test_client()


def _edit_sources(app: Flask) -> None:
    """The English changes after the Arabic and Ukrainian translations were made."""
    with db.get_database(app).session() as session:
        clinic = session.get_one(Resource, "fresh-clinic")
        CLOCK.now += timedelta(seconds=1)  # Last-Modified counts whole seconds
        clinic.name, clinic.updated_at = "Fresh Clinic (moved to Gate 5)", CLOCK.now
        alert = session.get_one(Bulletin, "current-alert")
        alert.title, alert.updated_at = "Bulletin current-alert, updated", CLOCK.now
    CLOCK.now += caching.STAMP_LIFETIME  # kept pages are looked at again


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_stale_translation_is_marked_on_the_resource_and_bulletin_pages(app: Flask) -> None:
    client = _world(app)
    assert mark("ar") not in _page(client, "/ar/resources/fresh-clinic")  # current: no mark
    assert mark("uk") not in _page(client, "/uk/info")
    _edit_sources(app)
    resource = _page(client, "/ar/resources/fresh-clinic")
    assert CLINIC_AR in resource
    assert mark("ar") in resource
    assert mark("ar") in _page(client, "/ar/resources?region=east")
    news = _page(client, "/uk/info")
    assert ALERT_UK in news
    assert news.count(mark("uk")) == 1  # on the one stale bulletin, not on the others
    assert mark("fr") not in _page(client, "/fr/resources/fresh-clinic")  # English: nothing


@pytest.fixture
def fallback_app(make_settings: Callable[..., Settings]) -> Iterator[Flask]:
    """An app whose Arabic and Ukrainian readers get English rather than a stale translation."""
    app = create_app(make_settings(REFUGE_STALE_TRANSLATIONS="ar=fallback;uk=fallback"))
    database = db.get_database(app)
    db.Base.metadata.create_all(database.engine)
    yield app
    database.dispose()


def test_the_fallback_policy_shows_the_english_unmarked(fallback_app: Flask) -> None:
    client = _world(fallback_app)
    _edit_sources(fallback_app)
    resource = _page(client, "/ar/resources/fresh-clinic")
    assert CLINIC_AR not in resource
    assert "Fresh Clinic (moved to Gate 5)" in resource
    assert mark("ar") not in resource
    news = _page(client, "/uk/info")
    assert ALERT_UK not in news
    assert mark("uk") not in news


PERSON = "+44 7700 900692"
CLINIC_ID = "sample-kharkiv-mobile-clinic"


def _listed(app: Flask, locale: str) -> list[str]:
    """The lines of the medical list a person in Kharkiv oblast gets by SMS, every page."""
    phone = Phone(app, PERSON, Clock(datetime(2026, 11, 26, 10, 20, tzinfo=UTC)))
    phone.ask(keyword(locale, "FIND"))
    pages = [phone.ask(digits(list(CATEGORY_NAMES).index(Category.MEDICAL) + 1, locale))]
    more = str(catalogue(locale).gettext("Reply MORE for more"))
    while more in pages[-1]:
        pages.append(phone.ask(keyword(locale, "MORE")))
    return "\n".join(pages).split("\n")


def test_a_stale_translation_is_marked_in_an_sms_reply(app: Flask) -> None:
    load_demo_content(app)
    register(app, PERSON, "uk", "kharkiv-oblast")
    with db.get_database(app).session() as session:
        name = session.scalar(
            select(Translation.text).where(
                Translation.entity == "resource",
                Translation.entity_id == CLINIC_ID,
                Translation.field == "name",
                Translation.locale == "uk",
            )
        )
    assert name is not None
    shown = segments.prepare(name, segments.AccentPolicy.TRANSLITERATE)
    said = segments.prepare(mark("uk"), segments.AccentPolicy.TRANSLITERATE)
    before = _listed(app, "uk")
    assert shown in before
    assert said not in before
    with db.get_database(app).session() as session:
        clinic = session.get_one(Resource, CLINIC_ID)
        clinic.name = clinic.name + " (new address)"
    after = _listed(app, "uk")
    assert after[after.index(shown) + 1] == said  # right under the name it is about
    assert after.count(said) == 1


STEP_UK = "Блокування екрана: Налаштування > Безпека > Блокування екрана. 6+ цифр."


def test_a_stale_step_translation_is_marked_above_the_step(app: Flask) -> None:
    load_demo_content(app)
    register(app, PERSON, "uk", "kharkiv-oblast")
    with db.get_database(app).session() as session:
        step = session.get_one(ChecklistStep, "phone/screen-lock")
        # The demo ships a drafted Ukrainian step: this one stands in its place.
        session.execute(
            delete(Translation).where(
                Translation.entity == "checklist_step",
                Translation.entity_id == step.id,
                Translation.field == "sms",
                Translation.locale == "uk",
            )
        )
        session.add(
            Translation(
                entity="checklist_step",
                entity_id=step.id,
                field="sms",
                locale="uk",
                text=STEP_UK,
                source_digest=source_digest(step.sms_text),
                updated_at=NOW,
            )
        )
    phone = Phone(app, PERSON, Clock(datetime(2026, 11, 26, 10, 20, tzinfo=UTC)))
    shown = segments.prepare(STEP_UK, segments.AccentPolicy.TRANSLITERATE)
    said = segments.prepare(mark("uk"), segments.AccentPolicy.TRANSLITERATE)
    phone.ask(keyword("uk", "SECURE"))
    assert phone.ask(digits(1, "uk")).startswith(shown)
    with db.get_database(app).session() as session:
        step = session.get_one(ChecklistStep, "phone/screen-lock")
        step.sms_text = step.sms_text.replace("6+ digits", "8+ digits")
    phone.ask("0")
    phone.ask(keyword("uk", "SECURE"))
    assert phone.ask(digits(1, "uk")).startswith(f"{said}\n{shown}")
