"""The signals page in real Chromium, in Arabic (right to left) and Burmese: it renders the
right way round, its charts are images with a name and run with the reading direction, it
fits a phone's width (wide tables scroll in their own box), runs no script and passes axe.
Screenshots are written under test-artifacts/screenshots/ for people to look at."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser import CHROMIUM_FLAGS, live_server, require_chromium
from tests.signals_helpers import World, make_world
from tests.test_web_browser import ARTIFACTS, PHONE, axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite alone: these tests look at a page."""
    return f"sqlite:///{tmp_path / 'refuge.sqlite3'}"


@dataclass
class Portal:
    browser: Browser
    base: str
    world: World

    def signed_in(self, locale: str) -> Page:
        """A phone-sized page logged in as the caseworker, in `locale`."""
        page = self.browser.new_context(viewport=PHONE).new_page()
        account = self.world.caseworker
        page.goto(f"{self.base}/portal/login?lang={locale}")
        page.fill("#username", account.username)
        page.fill("#password", account.password)
        page.fill("#code", account.code())
        page.click("button.main")
        page.goto(f"{self.base}/portal/signals?lang={locale}")
        return page


@pytest.fixture
def portal(app: Flask) -> Iterator[Portal]:
    executable = require_chromium()
    world = make_world(app)
    with live_server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield Portal(browser, base, world)
        browser.close()


@pytest.mark.parametrize(
    ("locale", "direction", "script"), [("ar", "rtl", "\u0600"), ("my", "ltr", "\u1000")]
)
def test_the_signals_page_reads_in_arabic_and_burmese(
    portal: Portal, locale: str, direction: str, script: str
) -> None:
    page = portal.signed_in(locale)
    assert page.locator("html").get_attribute("dir") == direction
    heading = page.locator("h1").inner_text()
    assert any(script <= letter <= chr(ord(script) + 0xFF) for letter in heading), heading
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    charts = page.locator("svg.chart")
    assert charts.count() > 0
    first = charts.first
    assert first.get_attribute("role") == "img"
    name = page.evaluate(
        "(svg) => svg.getAttribute('aria-labelledby').split(' ')"
        ".map((id) => document.getElementById(id).textContent).join(' ')",
        first.element_handle(),
    )
    assert any(script <= letter <= chr(ord(script) + 0xFF) for letter in name), name
    # Time runs with the reading direction: the oldest week's bar is where reading starts.
    weeks = [week.isoformat()[5:] for week in portal.world.weeks]
    labels = first.locator("text")
    x_of = {}
    for n in range(labels.count()):
        box = labels.nth(n).bounding_box()
        assert box is not None
        x_of[labels.nth(n).text_content()] = box["x"]
    assert list(x_of) == (weeks[::-1] if direction == "rtl" else weeks)
    assert (x_of[weeks[0]] > x_of[weeks[-1]]) == (direction == "rtl")
    # The table beside: its row headings sit on the reading side.
    row_heading = page.locator("tbody th").first.bounding_box()
    first_count = page.locator("tbody td").first.bounding_box()
    assert row_heading is not None
    assert first_count is not None
    assert (row_heading["x"] > first_count["x"]) == (direction == "rtl")
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-signals-{locale}.png"), full_page=False)


def test_filters_work_from_the_form_without_script(portal: Portal) -> None:
    page = portal.signed_in("ar")
    page.select_option("select[name=category]", "medical")
    page.select_option("select[name=region]", "saltivka")
    page.click("form.filters button")
    assert "category=medical" in page.url
    assert "lang=ar" in page.url
    assert page.locator("h2").count() == 1
    assert page.locator("html").get_attribute("dir") == "rtl"
