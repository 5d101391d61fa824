"""The app factory's promises: headers on everything, calm errors, no stack traces."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.app import create_app
from server.config import Settings

CANARY_PHONE = "+44 7700 900123"


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    for path in ("/healthz", "/no-such-page", "/api/v1/nothing"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "camera=()" in headers["Permissions-Policy"]
        assert headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in headers


def test_production_adds_hsts_and_secure_cookies(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        REFUGE_ENV="production",
        REFUGE_ALLOW_SQLITE="true",
        REFUGE_SMS_BACKEND="twilio",
        REFUGE_TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        REFUGE_TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32,
        REFUGE_PUBLIC_URL="https://refuge.example.org",
    )
    app = create_app(settings)
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_the_inline_style_carries_the_response_nonce(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    nonce = re.search(r"style-src 'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in response.get_data(as_text=True)
    again = client.get("/no-such-page").headers["Content-Security-Policy"]
    assert nonce.group(1) not in again


def test_an_unknown_page_is_a_readable_html_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "Page not found" in body
    assert '<html lang="en" dir="ltr">' in body


def test_api_errors_are_json_with_a_stable_code(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "Page not found"}}


def test_a_wrong_method_is_a_405_not_a_crash(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert response.status_code in {400, 405}
    assert response.is_json


@pytest.fixture
def broken_app(app: Flask) -> Flask:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError(f"could not text {CANARY_PHONE}")

    @app.get("/api/v1/boom")
    def api_boom() -> str:
        raise KeyError(CANARY_PHONE)

    return app


def test_a_crash_shows_no_stack_trace_and_logs_no_personal_data(
    broken_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = broken_app.test_client()
    with caplog.at_level(logging.ERROR):
        page = client.get("/boom")
        api = client.get("/api/v1/boom")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "Something went wrong on our side" in html
    assert "Traceback" not in html
    assert "RuntimeError" not in html
    assert CANARY_PHONE not in html
    assert api.status_code == 500
    assert api.get_json() == {
        "error": {"code": "internal_error", "message": "Something went wrong on our side"}
    }
    assert "unhandled RuntimeError" in caplog.text
    assert "unhandled KeyError" in caplog.text
    assert "900123" not in caplog.text


def test_arabic_speakers_get_a_right_to_left_page(client: FlaskClient, app: Flask) -> None:
    from server.i18n import locales

    assert locales.text_direction("ar") == "rtl"
    assert locales.text_direction("my") == "ltr"
    assert locales.text_direction("xx-not-a-locale") == "ltr"


def test_a_form_post_without_a_csrf_token_is_refused(broken_app: Flask) -> None:
    @broken_app.post("/form")
    def form() -> str:
        return "accepted"

    response = broken_app.test_client().post("/form", data={"x": "1"})
    assert response.status_code == 400
    assert "accepted" not in response.get_data(as_text=True)
