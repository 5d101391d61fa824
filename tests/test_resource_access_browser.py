"""Who a resource is for, its cost and how to ask, in real Chromium: right way round in Arabic,
drawn in Burmese, and clean for axe (issue 18, case 5)."""

from __future__ import annotations

import pytest
from flask import Flask

from server import db
from server.i18n.locales import catalogue
from server.models.content import Resource
from tests.test_web_browser import Site, axe_violations, database_url, site

__all__ = ["database_url", "site"]

pytestmark = pytest.mark.browser
SHELTER = "sample-cxb-womens-safe-house"


@pytest.mark.parametrize(("locale", "direction"), [("ar", "rtl"), ("my", "ltr")])
def test_access_details_read_the_right_way_round_and_pass_axe(
    app: Flask, site: Site, locale: str, direction: str
) -> None:
    with db.get_database(app).session() as session:
        shelter = session.get(Resource, SHELTER)
        assert shelter is not None
        shelter.eligibility = "Women and girls at risk, with their children"
        shelter.fees = "Free"
        shelter.application_process = "Call first; the team meets you nearby"
    page = site.page()
    page.goto(f"{site.base}/{locale}/resources/{SHELTER}")
    assert page.get_attribute("html", "dir") == direction
    for label in ("Who it is for:", "Cost:", "How to get it:"):
        translated = str(catalogue(locale).gettext(label))
        assert translated != label
        assert page.get_by_text(translated).is_visible()
    said = page.get_by_text("Women and girls at risk, with their children")
    assert said.is_visible()
    assert said.get_attribute("lang") == "en"  # not translated: marked as English
    assert axe_violations(page) == []
