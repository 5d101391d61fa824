"""The portal's content pages in real Chromium, on a phone-sized screen.

An editor writes a bulletin and a reviewer approves it, tapping through the pages as people
would, until the public page shows it; and script planted in every editable field of every
kind never runs, on the portal's lists, forms, history, previews and review queue, nor on the
public pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright

from server.content.kinds import ORGANIZATION
from server.models.staff import Role
from tests import content_samples as samples
from tests.browser import CHROMIUM_FLAGS, live_server, require_chromium
from tests.portal_helpers import Account, add_account, add_region

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
#: Script in every shape a field might let through: markup, an attribute break-out, a link.
PAYLOAD = (
    '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
    "\"'><svg onload=window.__xss=1>"
)
LINK = "[tap](javascript:window.__xss=1)"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Browser tests look at pages, not at databases: SQLite alone keeps them quick."""
    return f"sqlite:///{tmp_path / 'refuge.sqlite3'}"


@dataclass
class Desk:
    browser: Browser
    base: str
    editor: Account
    reviewer: Account

    def page(self) -> Page:
        page = self.browser.new_context(viewport=PHONE).new_page()
        page.set_default_timeout(60_000)  # a machine shared with other test runs can be slow
        page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
        return page

    def log_in(self, account: Account) -> Page:
        page = self.page()
        page.goto(self.base + "/portal/login")
        page.fill("#username", account.username)
        page.fill("#password", account.password)
        page.fill("#code", account.code())
        page.click("button.main")
        return page


@pytest.fixture
def desk(app: Flask) -> Iterator[Desk]:
    executable = require_chromium()
    add_region(app, "kharkiv")
    add_region(app, "odesa")
    editor = add_account(app, "olena", "kharkiv", Role.EDITOR)
    reviewer = add_account(app, "petro", "kharkiv", Role.REVIEWER)
    with live_server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield Desk(browser, base, editor, reviewer)
        browser.close()


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def test_an_editor_writes_a_bulletin_on_a_phone_and_a_reviewer_approves_it(desk: Desk) -> None:
    now = datetime.now(UTC)
    editor = desk.log_in(desk.editor)
    editor.click("text=Bulletins")
    editor.click("text=Add new")
    fits(editor)
    editor.fill("#f-id", "kharkiv-water")
    editor.select_option("#f-kind", "advisory")
    editor.fill("#f-title", "Water back on Monday")
    editor.fill("#f-body", "Tap water returns on **Monday** morning.")
    editor.check("input[name=regions][value=kharkiv]")
    editor.fill("#f-source_name", "Kharkiv Water Board")
    editor.fill("#f-issued_at", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    editor.fill("#f-expires_at", (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    editor.click("button[value=preview]")
    assert editor.inner_text(".preview .web strong") == "Monday"
    assert "By SMS: 1 segment (GSM-7)" in editor.inner_text("main")
    editor.click("button[value=save]")
    assert "Saved as a draft" in editor.inner_text("[role=status]")
    fits(editor)

    public = desk.page()
    public.goto(desk.base + "/en/info?region=kharkiv")
    assert "Water back on Monday" not in public.inner_text("main")

    reviewer = desk.log_in(desk.reviewer)
    reviewer.click("text=Drafts to review")
    fits(reviewer)
    assert "Water back on Monday" in reviewer.inner_text("table.diff")
    reviewer.click("article.draft button.main")
    assert "Approved" in reviewer.inner_text("[role=status]")

    public.goto(desk.base + "/en/info?region=kharkiv")
    assert "Water back on Monday" in public.inner_text("main")


def _planted(app: Flask) -> list[str]:
    """A record of every kind with script in every text field; the portal pages showing them."""
    org_id = samples.organization(app)
    forms = {
        "bulletins": samples.bulletin(
            "kharkiv",
            title=PAYLOAD,
            body=f"{PAYLOAD}\n\n{LINK}\n",
            source_name=PAYLOAD,
            source_url='https://example.org/"><img src=x onerror=window.__xss=1>',
        ),
        "context": samples.bulletin(
            "kharkiv",
            kind="context",
            title=PAYLOAD,
            body=f"{PAYLOAD}\n\n{LINK}\n",
            source_name=PAYLOAD,
            match_phrases=[{"locale": "en", "phrase": PAYLOAD}],
        ),
        "resources": samples.resource(
            app,
            "kharkiv",
            org_id,
            name=PAYLOAD,
            alternate_name=PAYLOAD,
            description=f"{PAYLOAD}\n\n{LINK}",
            status_note=PAYLOAD,
            verified_by=PAYLOAD,
            url='https://example.org/"><svg onload=window.__xss=1>',
            email=PAYLOAD,
            locations=[
                {
                    "id": samples.unique("loc"),
                    "name": PAYLOAD,
                    "address": PAYLOAD,
                    "city": PAYLOAD,
                    "country_code": "UA",
                    "latitude": None,
                    "longitude": None,
                    "confidential": False,
                    "call_first_phone": None,
                }
            ],
            schedules=[
                {"byday": "MO", "opens_at": "09:00", "closes_at": "17:00", "description": PAYLOAD}
            ],
        ),
        "checklists": samples.checklist(
            title=PAYLOAD,
            summary=f"{PAYLOAD}\n\n{LINK}",
            platform=PAYLOAD,
            platform_version=PAYLOAD,
            steps=[
                {
                    "id": "one",
                    "title": PAYLOAD,
                    "web": f"{PAYLOAD} {LINK}",
                    "sms": "<img src=x onerror=alert(1)>",
                }
            ],
        ),
    }
    paths = []
    for slug, form in forms.items():
        kind = (
            samples.CHECKLIST
            if slug == "checklists"
            else (samples.RESOURCE if slug == "resources" else samples.BULLETIN)
        )
        samples.live(app, kind, form)
        # A pending change too, so the review queue shows the payload in its diff and preview.
        samples.draft(app, kind, form | {"title" if "title" in form else "name": PAYLOAD + "!"})
        paths += [f"/portal/{slug}/", f"/portal/{slug}/{form['id']}"]
    with_payload = {
        "id": org_id,
        "name": PAYLOAD,
        "alternate_name": PAYLOAD,
        "description": f"{PAYLOAD}\n\n{LINK}",
        "website": "https://example.org/\"'>",
        "email": PAYLOAD,
        "sample": False,
        "locale": "en",
    }
    samples.live(app, ORGANIZATION, with_payload)
    paths += ["/portal/organizations/", f"/portal/organizations/{org_id}", "/portal/review"]
    public = [
        "/en/info?region=kharkiv",
        f"/en/resources/{forms['resources']['id']}",
        f"/en/secure/{forms['checklists']['id']}",
    ]
    return paths + public


#: Elements only an unescaped payload makes (the CSP would stop them running anyway).
PLANTED = "[onerror], [onload], script:not([nonce]), a[href^='javascript']"


def never_ran(page: Page, path: str) -> None:
    assert page.evaluate("window.__xss") is None, path
    assert page.locator(PLANTED).count() == 0, path


def test_script_in_every_editable_field_never_runs(desk: Desk, app: Flask) -> None:
    paths = _planted(app)
    reviewer = desk.log_in(desk.reviewer)
    for path in paths:
        reviewer.goto(desk.base + path)
        never_ran(reviewer, path)
        for form in reviewer.locator("button[value=preview]").all()[:1]:
            form.click()
            never_ran(reviewer, path + " (preview)")
        if path.startswith("/portal/") and not path.endswith("/") and "review" not in path:
            assert "<img src=x" in reviewer.inner_text("main") or "<img src=x" in (
                reviewer.input_value("textarea") if reviewer.locator("textarea").count() else ""
            ), path
    assert reviewer.evaluate("window.__xss") is None


@pytest.mark.parametrize(("tag", "direction"), [("ar", "rtl"), ("my", "ltr")])
def test_the_edit_and_review_pages_fit_320_pixels_in_arabic_and_burmese(
    desk: Desk, app: Flask, tag: str, direction: str
) -> None:
    samples.draft(app, samples.BULLETIN, samples.bulletin("kharkiv", body="x" * 300 + "\n"))
    page = desk.log_in(desk.reviewer)
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/portal/bulletins/new", "/portal/review", "/portal/resources/"):
        page.goto(f"{desk.base}{path}?lang={tag}")
        assert page.get_attribute("html", "dir") == direction, path
        assert page.get_attribute("html", "lang") == tag, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, (tag, path)
