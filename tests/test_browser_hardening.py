"""In real Chromium: the strict policy blocks what it must and allows Refuge's own page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from playwright.sync_api import Page, sync_playwright

from tests.browser import CHROMIUM_FLAGS, live_server, require_chromium

pytestmark = pytest.mark.browser


@dataclass
class Browsing:
    page: Page
    base: str
    console: list[str] = field(default_factory=list)


@pytest.fixture
def browsing(app: Flask) -> Iterator[Browsing]:
    executable = require_chromium()

    @app.get("/probe")
    def probe() -> str:
        # An injected inline script and style, as an attacker's markup would arrive.
        return (
            "<!doctype html><html><head><style>body{background:rgb(255,0,0)}</style></head>"
            "<body><p id=x>safe</p><script>document.getElementById('x').textContent='pwned'"
            "</script></body></html>"
        )

    with live_server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        session = Browsing(browser.new_page(), base)
        session.page.on("console", lambda message: session.console.append(message.text))
        yield session
        browser.close()


def test_refuge_pages_render_styled_under_the_strict_policy(browsing: Browsing) -> None:
    browsing.page.goto(f"{browsing.base}/no-such-page")
    heading = browsing.page.locator("h1")
    assert heading.text_content() == "Page not found"
    # The stylesheet carries the response's nonce, so the browser applied it: 1.4rem.
    assert heading.evaluate("e => getComputedStyle(e).fontSize") == "22.4px"
    assert not [line for line in browsing.console if "Content Security Policy" in line]


def test_injected_inline_script_and_style_do_not_run(browsing: Browsing) -> None:
    browsing.page.goto(f"{browsing.base}/probe")
    assert browsing.page.locator("#x").text_content() == "safe"
    background = browsing.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 0, 0)"
    assert any("Content Security Policy" in line for line in browsing.console)
