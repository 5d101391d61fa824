"""Who a resource is for, what it costs and how to ask for it, and what an alert says to do,
on every channel: HSDS and CAP brought them in, and nothing showed them (issue 18, case 5).

The web page and the API say them whole, in the reader's language; SMS adds each as one line
only while the resource still reads on one page, so none pushes a phone number to a MORE.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from server import db, segments
from server.i18n.locales import catalogue
from server.models.bulletins import Bulletin
from server.models.content import Category, Resource
from server.models.translations import Translation, source_digest
from tests.checkin_helpers import Clock, Phone, register
from tests.sms_helpers import keyword
from tests.test_resource_details import category, every_page
from tests.web_world import NOW, world

__all__ = ["world"]

PERSON = "+44 7700 900692"
FEES = "Free of charge"
FEES_AR = "مجانًا"
WHO = "Families with children under five"
HOW = "Walk in; bring any ID you have"
INSTRUCTION = "Boil drinking water for one minute."
CONTACT = "Health desk at Gate 3"


def describe(app: Flask, eligibility: str = WHO) -> None:
    """Give the clinic its access texts and an Arabic fee, and the current alert its advice."""
    with db.get_database(app).session() as session:
        clinic = session.get(Resource, "fresh-clinic")
        assert clinic is not None
        clinic.eligibility, clinic.fees, clinic.application_process = eligibility, FEES, HOW
        session.add(
            Translation(
                entity="resource",
                entity_id="fresh-clinic",
                field="fees",
                locale="ar",
                text=FEES_AR,
                source_digest=source_digest(FEES),
                updated_at=NOW - timedelta(days=1),
            )
        )
        alert = session.get(Bulletin, "current-alert")
        assert alert is not None
        alert.instruction, alert.contact = INSTRUCTION, CONTACT


def said(locale: str, english: str, **values: str) -> str:
    return segments.prepare(
        str(catalogue(locale).gettext(english)) % values, segments.AccentPolicy.KEEP
    )


def test_the_resource_page_says_who_it_is_for_what_it_costs_and_how_to_ask(
    world: FlaskClient,
) -> None:
    describe(world.application)
    page = world.get("/en/resources/fresh-clinic").get_data(as_text=True)
    for label, text in (("Who it is for:", WHO), ("Cost:", FEES), ("How to get it:", HOW)):
        assert f'<strong>{label}</strong> <span dir="auto">{text}</span>' in page
    arabic = world.get("/ar/resources/fresh-clinic").get_data(as_text=True)
    cost = catalogue("ar").gettext("Cost:")
    assert cost != "Cost:"
    assert f'<strong>{cost}</strong> <span dir="auto">{FEES_AR}</span>' in arabic


def test_the_api_resource_carries_hours_eligibility_fees_and_how_to_apply(
    world: FlaskClient,
) -> None:
    describe(world.application)
    body = world.get("/api/v1/resources/fresh-clinic").get_json()
    assert (body["eligibility"], body["fees"], body["application_process"]) == (WHO, FEES, HOW)
    assert body["hours"] == []
    assert world.get("/api/v1/resources/fresh-clinic?locale=ar").get_json()["fees"] == FEES_AR
    other = world.get("/api/v1/resources/stale-helpline").get_json()
    assert (other["eligibility"], other["fees"], other["application_process"]) == (None,) * 3


def test_an_alert_shows_what_to_do_and_whom_to_contact_on_the_web_and_the_api(
    world: FlaskClient,
) -> None:
    describe(world.application)
    page = world.get("/en/info?region=east").get_data(as_text=True)
    assert "What to do" in page
    assert INSTRUCTION in page
    assert f"Contact: {CONTACT}" in page
    (alert,) = [
        item
        for item in world.get("/api/v1/bulletins?region=east").get_json()["items"]
        if item["id"] == "current-alert"
    ]
    assert INSTRUCTION in alert["instruction_html"]
    assert alert["contact"] == CONTACT


def test_sms_adds_cost_eligibility_and_how_to_apply_while_the_resource_fits_one_page(
    world: FlaskClient,
) -> None:
    app = world.application
    assert isinstance(app, Flask)
    describe(app)
    register(app, PERSON, "en", "east")
    phone = Phone(app, PERSON, Clock(NOW))
    phone.ask(keyword("en", "FIND"))
    reply = phone.ask(category(Category.MEDICAL, "en"))
    for english, text in (
        ("Cost: %(text)s", FEES),
        ("For: %(text)s", WHO),
        ("How: %(text)s", HOW),
    ):
        assert said("en", english, text=text) in reply


def test_sms_leaves_a_long_eligibility_to_the_web_page(world: FlaskClient) -> None:
    app = world.application
    assert isinstance(app, Flask)
    long_text = "People displaced since March who hold a camp registration card. " * 6
    describe(app, eligibility=long_text)
    register(app, PERSON, "en", "east")
    phone = Phone(app, PERSON, Clock(NOW))
    phone.ask(keyword("en", "FIND"))
    listed = every_page(phone, phone.ask(category(Category.MEDICAL, "en")), "en")
    assert said("en", "Cost: %(text)s", text=FEES) in listed
    assert "camp registration card" not in listed
    assert "camp registration card" in world.get("/en/resources/fresh-clinic").get_data(
        as_text=True
    )


def test_sms_news_says_what_an_alert_tells_people_to_do(world: FlaskClient) -> None:
    app = world.application
    assert isinstance(app, Flask)
    describe(app)
    register(app, PERSON, "en", "east")
    phone = Phone(app, PERSON, Clock(NOW))
    listed = every_page(phone, phone.ask(keyword("en", "NEWS")), "en")
    assert INSTRUCTION in listed
