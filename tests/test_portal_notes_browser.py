"""The caseworker's notes page in real Chromium, in Arabic (right to left) and Burmese: notes
of the current and an earlier key, each key's download, marking a note handled, no sideways
scrolling on a phone. A full-page screenshot of each is written under
test-artifacts/screenshots/ for people to look at."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, sync_playwright

from server import vault
from tests.browser import CHROMIUM_FLAGS, live_server, require_chromium
from tests.checkin_helpers import Clock, Phone, add_partner, register
from tests.portal_helpers import Account, Ngo, add_account, add_ngo
from tests.test_cli_vault import invoke

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
#: The "Mark handled" button and the "Earlier key" heading, as each locale says them.
WORDS = {
    "ar": ("تعليمها كمعالَجة", "مفتاح سابق"),
    "my": ("ကိုင်တွယ်ပြီးဟု မှတ်ရန်", "ယခင် ကီး"),
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Browser tests look at pages, not at databases: SQLite alone keeps them quick."""
    return f"sqlite:///{tmp_path / 'refuge.sqlite3'}"


@pytest.fixture
def rotated(app: Flask) -> tuple[Ngo, Ngo, Account]:
    """Kharkiv Aid with a note under its first key, then a new key and a note under it."""
    first = add_ngo(app, "kharkiv", "Kharkiv Aid")
    register(app, "+44 7700 900851", "en", "kharkiv")
    phone = Phone(app, "+44 7700 900851", Clock(datetime.now(UTC)))
    assert "sealed" in phone.ask("NOTE before the new key")
    private, public = vault.new_note_keypair()
    add_partner(app, "kharkiv", "Kharkiv Aid", None, public)
    assert "sealed" in phone.ask("NOTE after the new key")
    return (
        first,
        Ngo("kharkiv", "Kharkiv Aid", private, public),
        add_account(app, "olena", "kharkiv"),
    )


@pytest.fixture
def browser_page(app: Flask) -> Iterator[tuple[Page, str]]:
    executable = require_chromium()
    with live_server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport=PHONE, accept_downloads=True)
        yield context.new_page(), base
        browser.close()


@pytest.mark.parametrize("locale", ["ar", "my"])
def test_the_notes_page_in_arabic_and_burmese(
    app: Flask,
    rotated: tuple[Ngo, Ngo, Account],
    browser_page: tuple[Page, str],
    locale: str,
    tmp_path: Path,
) -> None:
    first, current, account = rotated
    page, base = browser_page
    mark, earlier_word = WORDS[locale]
    page.goto(f"{base}/portal/login?lang={locale}")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.fill("input[name=code]", account.code())
    page.locator("form.stack button").click()
    page.wait_for_url("**/portal/?lang=*")  # a caseworker's home: notes and signals
    page.locator("main a[href*='/portal/notes']").click()
    page.wait_for_url("**/portal/notes?lang=*")
    html = page.locator("html")
    assert html.get_attribute("lang") == locale
    assert html.get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
    old, new = vault.key_fingerprint(first.public), vault.key_fingerprint(current.public)
    earlier = page.locator(f"section[aria-labelledby='key-{old}']")
    assert earlier_word in earlier.locator("h2").inner_text()
    assert earlier.locator("h2 bdi").inner_text() == old  # the fingerprint reads left to right
    assert page.locator(f"section[aria-labelledby='key-{new}'] tbody tr").count() == 1
    assert earlier.locator("tbody tr").count() == 1
    # Nothing on the page runs off the side of a phone, whichever way the script runs.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # for people to look at
    page.screenshot(path=ARTIFACTS / f"portal-notes-{locale}-360x740.png", full_page=True)

    with page.expect_download() as waiting:
        earlier.locator("button.main").click()
    saved = tmp_path / "earlier.ndjson"
    waiting.value.save_as(saved)
    key_file = tmp_path / "first.pem"
    key_file.write_bytes(first.private_pem)
    opened = invoke(app, "notes", "open", "--key", str(key_file), str(saved))
    assert opened.exit_code == 0
    assert "before the new key" in opened.output

    earlier.get_by_role("button", name=mark).click()
    page.wait_for_load_state()
    earlier = page.locator(f"section[aria-labelledby='key-{old}']")
    assert earlier.get_by_role("button", name=mark).count() == 0
    today = date.today().isoformat()
    cells = earlier.locator("tbody td").all_inner_texts()
    assert cells.count(today) >= 3  # received, downloaded and handled today
    assert (
        page.locator(f"section[aria-labelledby='key-{new}']")
        .get_by_role("button", name=mark)
        .count()
        == 1
    )
