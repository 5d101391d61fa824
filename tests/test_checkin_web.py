"""The web check-in page: number, PIN and web code, no account, no JavaScript, nothing echoed or
logged. What a stranger can learn or do there: `test_web_checkin_adversary.py`."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import sync_playwright

from server.i18n.locales import catalogue
from server.web import checkin
from tests.browser import CHROMIUM_FLAGS, live_server, require_chromium
from tests.checkin_helpers import (
    Clock,
    Phone,
    check_in,
    deliver,
    plan_facts,
    register,
    run_sweep,
    sent,
    set_up,
    turn_web_on,
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
    phone = Phone(app, PERSON, clock)
    set_up(phone, "my", contacts=(("+447700900802", "Sara"),))
    deliver(app, clock.now)  # the opt-in leaves
    Phone(app, SARA, clock).ask("YES")
    app.config["TEST_WEB_CODE"] = turn_web_on(phone, "my")
    return app


def _code(app: Flask) -> str:
    code: str = app.config["TEST_WEB_CODE"]
    return code


def _post(
    client: FlaskClient, locale: str, number: str, pin: str, code: str = ""
) -> tuple[int, str, str]:
    page = client.get(f"/{locale}/checkin").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token is not None
    form = {"csrf_token": token[1], "number": number, "pin": pin, "code": code}
    response = client.post(f"/{locale}/checkin", data=form)
    found = ANSWER.search(response.get_data(as_text=True))
    assert found is not None, response.get_data(as_text=True)
    return response.status_code, found[1], found[2]


def test_the_page_speaks_the_locale_and_needs_no_script(app: Flask) -> None:
    client = app.test_client()
    arabic = client.get("/ar/checkin").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic
    form = arabic[arabic.index("<form") : arabic.index("</form>")]
    assert "<script" not in form  # the form works without script;
    assert " on" not in form  # no event handlers either
    assert arabic.count("<script") == 1  # the page's one script is the quick exit's
    assert arabic.count('dir="ltr"') == 3  # the number, PIN and code fields stay left to right
    assert "رمز الويب" in arabic  # the web code's label, in Arabic
    burmese = client.get("/my/checkin").get_data(as_text=True)
    assert '<html lang="my" dir="ltr">' in burmese
    assert "ဝက်ဘ်ကုဒ်" in burmese
    assert "Web code" not in burmese
    assert client.get("/xx/checkin").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(planned: Flask) -> None:
    _s, before, _n = plan_facts(planned, PERSON)
    form = {"number": PERSON, "pin": str(PIN), "code": _code(planned)}
    response = planned.test_client().post("/en/checkin", data=form)
    assert response.status_code == 400
    _s, state, _n = plan_facts(planned, PERSON)
    assert state == before


def test_the_duress_pin_gets_the_same_page_and_alerts(planned: Flask) -> None:
    client = planned.test_client()
    code = _code(planned)
    real = _post(client, "my", PERSON, digits(PIN, "my"), code)  # Burmese digits work
    assert real[0] == 200
    assert real[1] == "ok"
    run_sweep(planned, datetime.now(UTC))
    assert [m for m in sent(planned) if m.kind == "alert"] == []
    forced = _post(client, "my", "+447700900801", digits(DURESS, "my"), code)
    assert forced == real
    run_sweep(planned, datetime.now(UTC))
    assert [m.to for m in sent(planned) if m.kind == "alert"] == ["Sara"]


def test_a_right_pin_on_a_stopped_plan_is_told_it_is_stopped(planned: Flask) -> None:
    Phone(planned, PERSON, Clock(datetime.now(UTC))).ask(f"STOP CHECKIN {PIN}")
    client = planned.test_client()
    stopped = (200, "ok", "Check-ins stopped. Reply CHECKIN to set them up again.")
    code = _code(planned)
    assert _post(client, "en", PERSON, str(PIN), code) == stopped
    assert _post(client, "en", PERSON, str(DURESS), code) == stopped  # whatever the PIN
    assert _post(client, "en", PERSON, "1111", code)[0] == 400  # without it, nothing is learnt


def test_wrong_pins_and_unknown_numbers_look_alike_and_confirm_nothing(
    planned: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = planned.test_client()
    code = _code(planned)
    _s, before, _n = plan_facts(planned, PERSON)
    wrong = _post(client, "en", PERSON, "1111", code)
    stranger = _post(client, "en", "+44 7700 900888", str(PIN), code)
    assert wrong == stranger
    assert wrong[0] == 400
    _s, state, _n = plan_facts(planned, PERSON)
    assert state.last_checkin == before.last_checkin  # the set-up's WEB <PIN> checked in
    logged = caplog.text
    for secret in ("900801", "900888", "1111", str(PIN), code[:4], code[4:]):
        assert secret not in logged


def test_a_number_given_too_many_tries_fails_like_a_wrong_pin_and_sms_still_works(
    planned: Flask,
) -> None:
    client = planned.test_client()
    code = _code(planned)
    wrong = [_post(client, "en", PERSON, "1111", code) for _ in range(checkin.NUMBER_TRIES)]
    assert {answer[0] for answer in wrong} == {400}
    # The number's tries are spent: the right PIN and code now get the wrong PIN's answer.
    assert _post(client, "en", PERSON, str(PIN), code) == wrong[0]
    _s, state, _n = plan_facts(planned, PERSON)
    assert state.wrong == 0  # web failures never count towards the wrong-PIN alert
    reply = check_in(Phone(planned, PERSON, Clock(datetime.now(UTC))), "my", PIN)
    thanks = str(catalogue("my").gettext("Thank you. Next check-in: %(time)s."))
    assert reply.startswith(thanks.split("%")[0])


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
        page.fill("#code", _code(planned))
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
    phone = Phone(app, PERSON, clock)
    set_up(phone, "en", schedule=daily, contacts=(("+447700900802", "Sara"),))
    code = turn_web_on(phone, "en")
    client = app.test_client()
    first = _post(client, "en", PERSON, str(PIN), code)
    _s, state, _n = plan_facts(app, PERSON)
    due = state.due_at
    assert due is not None
    assert due - now <= timedelta(days=2)
    for _again in range(2):
        assert _post(client, "en", PERSON, str(PIN), code) == first
        _s, state, _n = plan_facts(app, PERSON)
        assert state.due_at == due
