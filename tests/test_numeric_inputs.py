"""Every numeric parameter takes ASCII digits within its bounds, and anything else is a clear
400: never a 500 (`int("①")` fails), never a page nobody asked for (`int("٣")` reads 3).

The PIN and the portal's TOTP code are not here as numbers: they are read in any script on
purpose (`ascii_digits`), and only must never fail; that is checked at the end.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.delivery.twilio import STATUS_ROW_PARAMETER
from tests.portal_helpers import log_in
from tests.sms_helpers import STATUS, post

#: Not a whole number in ASCII digits: a circled digit, Arabic-Indic, Bengali, Burmese and
#: full-width digits, a superscript, a number too long for `int`, a sign, an exponent, a space.
NOT_NUMBERS = ["①", "٣", "২", "၃", "\uff13", "²", "1" * 5000, "-1", "+1", "1e3", " 1", "1.0"]

#: (path, parameter): every numeric query parameter of the public pages, the API and health.
QUERY_NUMBERS = [
    ("/en/resources", "page"),
    ("/ar/resources", "page"),
    ("/api/v1/resources", "page"),
    ("/api/v1/resources", "per_page"),
    ("/api/v1/hsds/services", "page"),
    ("/api/v1/hsds/services", "per_page"),
    ("/healthz", "deep"),
]


@pytest.mark.parametrize(("path", "name"), QUERY_NUMBERS)
def test_a_numeric_query_parameter_that_is_not_ascii_digits_is_a_400(
    client: FlaskClient, path: str, name: str
) -> None:
    for value in NOT_NUMBERS:
        response = client.get(path, query_string={name: value})
        assert response.status_code == 400, (path, name, value)
        if response.is_json:
            assert response.json is not None
            assert name in response.json["error"]["message"], response.json


@pytest.mark.parametrize(("path", "name"), QUERY_NUMBERS)
def test_a_numeric_query_parameter_in_ascii_digits_still_works(
    client: FlaskClient, path: str, name: str
) -> None:
    assert client.get(path, query_string={name: "1"}).status_code == 200


def test_a_modification_date_in_other_digits_is_a_400(client: FlaskClient) -> None:
    for moment in ("٢٠٢٦-01-01T00:00:00+00:00", "\uff12\uff10\uff12\uff16-01-01T00:00:00+00:00"):
        response = client.get("/api/v1/hsds/services", query_string={"modified_after": moment})
        assert response.status_code == 400, moment
        assert response.json is not None
        assert "modified_after" in response.json["error"]["message"]
    fine = client.get(
        "/api/v1/hsds/services", query_string={"modified_after": "2026-01-01T00:00:00Z"}
    )
    assert fine.status_code == 200


def test_a_status_callback_error_code_that_is_not_ascii_digits_is_a_400(app: Flask) -> None:
    client = app.test_client()
    for value in NOT_NUMBERS:
        form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed", "ErrorCode": value}
        assert post(client, app, form, path=STATUS).status == 400, value
    form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed", "ErrorCode": "30003"}
    assert post(client, app, form, path=STATUS).status == 204


def test_a_status_callback_row_id_in_other_digits_is_a_400(app: Flask) -> None:
    client = app.test_client()
    form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    for row in ("٣" * 32, "①" * 32, "0" * 31, "g" * 32):
        path = f"{STATUS}?{STATUS_ROW_PARAMETER}={quote(row)}"  # as Twilio signs it
        assert post(client, app, form, path=path).status == 400, row
    path = f"{STATUS}?{STATUS_ROW_PARAMETER}={'0' * 32}"
    assert post(client, app, form, path=path).status == 204


def test_a_pin_or_a_code_in_any_digits_never_fails(client: FlaskClient) -> None:
    for value in NOT_NUMBERS:
        checked = client.post("/en/checkin", data={"number": value, "pin": value})
        assert checked.status_code < 500, value
        logged = log_in(client, "nobody", "not the password", value)
        assert logged.status_code < 500, value
