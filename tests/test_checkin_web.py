"""The web check-in page: number and PIN, no account, no JavaScript, nothing echoed or logged."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import sync_playwright

from server import db
from server.app import create_app
from server.config import Settings
from server.web import checkin
from tests.browser import CHROMIUM_FLAGS, live_server, require_chromium
from tests.checkin_helpers import (
    Clock,
    Phone,
    deliver,
    plan_facts,
    register,
    run_sweep,
    sent,
    set_up,
)
from tests.sms_helpers import digits, load_demo_content

PERSON = "+44 7700 900801"
SARA = "+44 7700 900802"
PIN, DURESS = 482193, 917364
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWER = re.compile(r'<p class="answer (ok|error)" role="(?:status|alert)">([^<]*)</p>')


@pytest.fixture
def planned(app: Flask) -> Flask:
    load_demo_content(app)
    clock = Clock(datetime.now(UTC) - timedelta(minutes=5))
    register(app, PERSON, "my", "kharkiv")
    set_up(Phone(app, PERSON, clock), "my", contacts=(("+447700900802", "Sara"),))
    deliver(app, clock.now)  # the opt-in leaves
    Phone(app, SARA, clock).ask("YES")
    return app


def _post(client: FlaskClient, locale: str, number: str, pin: str) -> tuple[int, str, str]:
    page = client.get(f"/{locale}/checkin").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token is not None
    response = client.post(
        f"/{locale}/checkin", data={"csrf_token": token[1], "number": number, "pin": pin}
    )
    found = ANSWER.search(response.get_data(as_text=True))
    assert found is not None, response.get_data(as_text=True)
    return response.status_code, found[1], found[2]


def test_the_page_speaks_the_locale_and_needs_no_script(app: Flask) -> None:
    client = app.test_client()
    arabic = client.get("/ar/checkin").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic
    assert "<script" not in arabic
    assert 'dir="ltr"' in arabic  # the number and PIN fields stay left to right
    assert client.get("/xx/checkin").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(planned: Flask) -> None:
    response = planned.test_client().post("/en/checkin", data={"number": PERSON, "pin": str(PIN)})
    assert response.status_code == 400
    _s, state, _n = plan_facts(planned, PERSON)
    assert state.last_checkin is None


def test_the_duress_pin_gets_the_same_page_and_alerts(planned: Flask) -> None:
    client = planned.test_client()
    real = _post(client, "my", PERSON, digits(PIN, "my"))  # Burmese digits work
    assert real[0] == 200
    assert real[1] == "ok"
    run_sweep(planned, datetime.now(UTC))
    assert [m for m in sent(planned) if m.kind == "alert"] == []
    forced = _post(client, "my", "+447700900801", digits(DURESS, "my"))
    assert forced == real
    run_sweep(planned, datetime.now(UTC))
    assert [m.to for m in sent(planned) if m.kind == "alert"] == ["Sara"]


def test_a_right_pin_on_a_stopped_plan_is_told_it_is_stopped(planned: Flask) -> None:
    Phone(planned, PERSON, Clock(datetime.now(UTC))).ask(f"STOP CHECKIN {PIN}")
    client = planned.test_client()
    stopped = (200, "ok", "Check-ins stopped. Reply CHECKIN to set them up again.")
    assert _post(client, "en", PERSON, str(PIN)) == stopped
    assert _post(client, "en", PERSON, str(DURESS)) == stopped  # whatever the PIN
    assert _post(client, "en", PERSON, "1111")[0] == 400  # without it, nothing is learnt


def test_wrong_pins_and_unknown_numbers_look_alike_and_confirm_nothing(
    planned: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = planned.test_client()
    wrong = _post(client, "en", PERSON, "1111")
    stranger = _post(client, "en", "+44 7700 900888", str(PIN))
    assert wrong == stranger
    assert wrong[0] == 400
    _s, state, _n = plan_facts(planned, PERSON)
    assert state.last_checkin is None
    logged = caplog.text
    for secret in ("900801", "900888", "1111", str(PIN)):
        assert secret not in logged


def test_too_many_tries_are_refused(planned: Flask) -> None:
    # A budget that refills faster than the tries come: this test is about the plan's limit.
    planned.extensions[checkin.BUDGET_EXTENSION] = checkin.Budget(1000.0)
    client = planned.test_client()
    statuses = [_post(client, "en", PERSON, "1111")[0] for _ in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
    # Even the right PIN waits for the next hour: the limit is the plan's, SMS included.
    assert _post(client, "en", PERSON, str(PIN))[0] == 429


def test_the_apps_budget_of_slow_checks_holds(planned: Flask) -> None:
    stopped = checkin.Budget(checkin.CHECKS_PER_SECOND, clock=lambda: 0.0)  # no refill
    planned.extensions[checkin.BUDGET_EXTENSION] = stopped
    client = planned.test_client()
    assert [_post(client, "en", PERSON, "1111")[0] for _ in range(8)] == [400] * 8
    assert _post(client, "en", PERSON, str(PIN))[0] == 429  # the right PIN waits too
    assert checkin.budget(planned) is stopped


def test_each_app_has_its_own_full_budget(app: Flask, settings: Settings) -> None:
    while checkin.budget(app).take():
        pass
    other = create_app(settings)
    try:
        assert checkin.budget(other) is not checkin.budget(app)
        assert checkin.budget(other).take()
    finally:
        db.get_database(other).dispose()


@pytest.mark.browser
def test_checking_in_from_a_browser_without_javascript(planned: Flask) -> None:
    executable = require_chromium()
    with live_server(planned) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{base}/ar/checkin")
        assert page.locator("html").get_attribute("dir") == "rtl"
        page.fill("#number", PERSON)
        page.fill("#pin", digits(PIN, "ar"))
        page.click("button[type=submit]")
        assert page.locator(".answer.ok").count() == 1
        assert PERSON not in page.content()
        browser.close()
    _s, state, _n = plan_facts(planned, PERSON)
    assert state.last_checkin is not None


def test_checking_in_on_the_web_again_and_again_keeps_the_daily_time(app: Flask) -> None:
    load_demo_content(app)
    now = datetime.now(UTC)
    clock = Clock(now - timedelta(minutes=5))
    register(app, PERSON, "en", "kharkiv")
    # A daily time three hours ago in Kyiv: its next occurrence is a day away (two, at night).
    daily = (now - timedelta(hours=3)).astimezone(ZoneInfo("Europe/Kyiv")).strftime("%H:%M")
    set_up(Phone(app, PERSON, clock), "en", schedule=daily, contacts=(("+447700900802", "Sara"),))
    client = app.test_client()
    first = _post(client, "en", PERSON, str(PIN))
    _s, state, _n = plan_facts(app, PERSON)
    due = state.due_at
    assert due is not None
    assert due - now <= timedelta(days=2)
    for _again in range(2):
        assert _post(client, "en", PERSON, str(PIN)) == first
        _s, state, _n = plan_facts(app, PERSON)
        assert state.due_at == due
