"""The accounts pages in real Chromium on a phone-sized screen, in Arabic (right to left) and
Burmese, with JavaScript off: an admin logs in, finds an account and disables it.

Screenshots are written under test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, StorageState, sync_playwright

from server.models.staff import Role
from tests.account_helpers import user
from tests.browser import CHROMIUM_FLAGS, live_server, require_chromium
from tests.portal_helpers import Account, add_account, add_ngo, add_region
from tests.test_web_browser import ARTIFACTS, PHONE, axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Browser tests look at pages, not at databases: SQLite alone keeps them quick."""
    return f"sqlite:///{tmp_path / 'refuge.sqlite3'}"


@pytest.fixture
def chromium(app: Flask) -> Iterator[tuple[Browser, str]]:
    executable = require_chromium()
    with live_server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser, base
        browser.close()


@pytest.mark.parametrize(("locale", "direction"), [("ar", "rtl"), ("my", "ltr")])
def test_an_admin_disables_an_account_on_a_phone_without_javascript(
    app: Flask, chromium: tuple[Browser, str], locale: str, direction: str
) -> None:
    browser, base = chromium
    add_ngo(app, "kharkiv", "Kharkiv Aid")
    add_region(app, "saltivka", parent="kharkiv")
    admin: Account = add_account(app, "anna", "kharkiv", Role.ADMIN)
    add_account(app, "petro.saltivka", "saltivka", Role.EDITOR)
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/portal/login?lang={locale}")
    page.fill("#username", admin.username)
    page.fill("#password", admin.password)
    page.fill("#code", admin.code())
    page.locator("button.main").click()
    page.goto(f"{base}/portal/accounts?lang={locale}")
    assert page.locator("html").get_attribute("dir") == direction
    assert page.locator("html").get_attribute("lang") == locale
    heading = page.locator("h1").inner_text()
    assert heading != "Accounts"  # said in the page's language
    if locale == "my":
        assert any("\u1000" <= ch <= "\u109f" for ch in heading)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-accounts-{locale}.png"), full_page=True)
    page.get_by_role("link", name="petro.saltivka").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    buttons = page.locator("form.inline button")
    assert buttons.count() >= 3
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box is not None
        assert box["height"] >= 40, "a large tap target"
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / f"portal-account-{locale}.png"), full_page=True)
    _no_accessibility_violations(browser, context.storage_state(), [page.url])
    page.locator("form[action*='/disable'] button").click()
    assert user(app, "petro.saltivka").disabled
    assert page.locator("html").get_attribute("dir") == direction  # still in its language
    assert page.locator("form[action*='/enable'] button").is_visible()
    context.close()


def _no_accessibility_violations(browser: Browser, state: StorageState, urls: list[str]) -> None:
    """axe runs as a script: in a second browser with the same session and JavaScript on."""
    context = browser.new_context(viewport=PHONE, storage_state=state)
    page = context.new_page()
    for url in urls:
        page.goto(url)
        assert axe_violations(page) == [], url
    context.close()
