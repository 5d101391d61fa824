"""The translator's workspace in real Chromium, in Arabic (right to left) and Burmese: the
page and the translation boxes run the locale's way, the source stays left to right beside
them, a save shows its SMS cost, a refusal is announced, and axe finds nothing serious."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright

from server import db
from tests.browser import CHROMIUM_FLAGS, live_server, require_chromium
from tests.portal_helpers import Account
from tests.test_web_browser import axe_violations
from tests.translate_helpers import (  # noqa: F401 (the autouse fixture)
    AGREED,
    STOP_REPLY,
    _forget_overrides,
    token_of,
    translator,
)
from tests.web_world import load_demo

pytestmark = pytest.mark.browser

WORDS = {
    "ar": "لن تصلك رسائل أخرى من Refuge. أرسل START للعودة.",
    "my": "Refuge မှ မက်ဆေ့ချ်များ ထပ်မရောက်ပါ။ ပြန်လာရန် START ပို့ပါ။",
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Browser tests look at pages: SQLite alone keeps them quick."""
    return f"sqlite:///{tmp_path / 'refuge.sqlite3'}"


@dataclass
class Desk:
    browser: Browser
    base: str
    page: Page


def _log_in(page: Page, base: str, account: Account) -> None:
    page.goto(base + "/portal/login")
    page.fill("#username", account.username)
    page.fill("#password", account.password)
    page.fill("#code", account.code())
    page.click("button.main")


@pytest.fixture
def desk(app: Flask, tmp_path: Path) -> Iterator[Desk]:
    executable = require_chromium()
    with db.get_database(app).session() as session:
        load_demo(session, tmp_path)
    account = translator(app, "amina", ("ar", "my"))
    with live_server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1024, "height": 900})
        _log_in(page, base, account)
        yield Desk(browser, base, page)
        browser.close()


@pytest.mark.parametrize(("locale", "direction"), [("ar", "rtl"), ("my", "ltr")])
def test_the_workspace_reads_the_locales_way_and_saves_with_its_cost(
    desk: Desk, locale: str, direction: str
) -> None:
    page = desk.page
    page.goto(f"{desk.base}/portal/translate/{locale}?lang={locale}&q=Reply+START+to+come+back")
    assert page.locator("html").get_attribute("dir") == direction
    entry = page.locator(f"#{token_of(STOP_REPLY)}")
    box = entry.locator("textarea")
    assert box.get_attribute("dir") == direction
    assert box.get_attribute("lang") == locale
    assert entry.locator(".source").get_attribute("dir") == "ltr"
    assert axe_violations(page) == []
    box.fill(WORDS[locale])
    entry.locator("button[type=submit]").first.click()
    page.wait_for_load_state()
    entry = page.locator(f"#{token_of(STOP_REPLY)}")
    assert entry.locator("textarea").input_value() == WORDS[locale]
    cost = entry.locator(".cost")
    assert cost.get_attribute("data-encoding") == "UCS-2"
    assert int(cost.get_attribute("data-segments") or 0) >= 1
    if direction == "rtl":  # the source sits on the right, the translation on its left
        source_box = entry.locator(".source").bounding_box()
        text_box = entry.locator("textarea").bounding_box()
        assert source_box is not None
        assert text_box is not None
        assert text_box["x"] < source_box["x"]


@pytest.mark.parametrize("locale", ["ar", "my"])
def test_a_refused_placeholder_is_announced_at_its_entry(desk: Desk, locale: str) -> None:
    page = desk.page
    page.goto(f"{desk.base}/portal/translate/{locale}?lang={locale}&q=agreed+to+be+one")
    entry = page.locator(f"#{token_of(AGREED)}")
    entry.locator("textarea").fill(WORDS[locale])
    entry.locator("button[type=submit]").first.click()
    page.wait_for_load_state()
    alert = page.locator(f"#{token_of(AGREED)} [role=alert]")
    assert "%(name)s" in alert.inner_text()
    assert page.locator(f"#{token_of(AGREED)} textarea").input_value() == WORDS[locale]
    assert axe_violations(page) == []
