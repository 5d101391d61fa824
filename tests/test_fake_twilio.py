"""The fake Twilio server answers the real SDK as Twilio would: round trips, auth, faults,
timeouts, status changes and signed status callbacks."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import requests
from flask import Flask, Response, request
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageInstance

from server.config import TWILIO_API_BASE
from server.delivery.twilio import rebase_twilio_url
from tests.fake_twilio import BaseUrlHttpClient, FakeTwilio, sdk_client, segment_count

TO = "+12025550150"
TO_OTHER = "+12025550151"
FROM = "+12025550100"
SERVICE = "MG" + "0" * 32
CALLBACK = "https://refuge.example/sms/twilio/status"
SID = r"SM[0-9a-f]{32}"
TIMEOUT = 0.3  # the client's timeout in the slow tests
SLOW = 3.0  # how long the fake holds a "timeout" answer (cut short when the fake closes)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(slow_seconds=SLOW) as server:
        yield server
        assert server.errors == []


@pytest.fixture
def client(fake: FakeTwilio) -> Client:
    return sdk_client(fake, timeout=TIMEOUT)


def send(client: Client, to: str = TO, body: str = "Hello") -> MessageInstance:
    return client.messages.create(to=to, from_=FROM, body=body, status_callback=CALLBACK)


def test_create_fetch_list_delete_round_trip(fake: FakeTwilio, client: Client) -> None:
    created = client.messages.create(
        to=TO, from_=FROM, body="Hello", status_callback=CALLBACK, validity_period=600
    )

    assert re.fullmatch(SID, created.sid)
    assert (created.status, created.to, created.from_, created.body) == (
        "queued",
        TO,
        FROM,
        "Hello",
    )
    assert (created.num_segments, created.error_code, created.direction) == (
        "1",
        None,
        "outbound-api",
    )
    assert created.account_sid == fake.account_sid
    assert created.messaging_service_sid is None
    assert isinstance(created.date_created, datetime)
    post = fake.requests[-1]
    assert (post.method, post.action, post.status) == ("POST", "create", 201)
    assert post.path == f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    assert post.form == {
        "To": TO,
        "From": FROM,
        "Body": "Hello",
        "StatusCallback": CALLBACK,
        "ValidityPeriod": "600",
    }
    assert post.auth_user == fake.account_sid
    assert post.headers["User-Agent"].startswith("twilio-python/")

    fetched = client.messages(created.sid).fetch()
    assert (fetched.sid, fetched.status, fetched.body) == (created.sid, "queued", "Hello")
    assert fetched.date_created == created.date_created
    assert fake.requests[-1].path.endswith(f"/Messages/{created.sid}.json")

    assert [m.sid for m in client.messages.list(to=TO)] == [created.sid]
    assert client.messages.list(to=TO_OTHER) == []

    assert client.messages(created.sid).delete() is True
    assert (fake.requests[-1].method, fake.requests[-1].status) == ("DELETE", 204)
    assert fake.messages[created.sid].deleted
    assert client.messages.list() == []
    with pytest.raises(TwilioRestException) as missing:
        client.messages(created.sid).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as again:
        client.messages(created.sid).delete()
    assert (again.value.status, again.value.code) == (404, 20404)


def test_messaging_service_and_content_template(fake: FakeTwilio, client: Client) -> None:
    message = client.messages.create(
        to="whatsapp:" + TO,
        messaging_service_sid=SERVICE,
        content_sid="HX" + "1" * 32,
        content_variables='{"1": "Refuge"}',
    )

    assert (message.status, message.from_, message.num_segments) == ("accepted", None, "0")
    assert message.messaging_service_sid == SERVICE
    assert fake.requests[-1].form["ContentVariables"] == '{"1": "Refuge"}'
    held = fake.messages[message.sid]
    assert (held.content_sid, held.content_variables) == ("HX" + "1" * 32, '{"1": "Refuge"}')

    moved = fake.set_status(message.sid, "sent")
    assert (moved.from_, moved.num_segments) == (fake.service_sender, "1")


def test_list_filters_pages_and_orders_newest_first(fake: FakeTwilio, client: Client) -> None:
    sids = [send(client, to=TO if i % 2 else TO_OTHER, body=f"m{i}").sid for i in range(5)]

    assert [m.sid for m in client.messages.list(page_size=2)] == sids[::-1]
    pages = [r for r in fake.requests if r.action == "list"]
    assert len(pages) == 3
    assert [r.query.get("Page", "0") for r in pages] == ["0", "1", "2"]
    assert all(r.query["PageSize"] == "2" for r in pages)
    assert [m.sid for m in client.messages.list(limit=3)] == sids[:1:-1]
    assert [m.to for m in client.messages.list(to=TO, page_size=1)] == [TO, TO]
    assert len(client.messages.list(from_=FROM)) == 5

    today = fake.sent()[0].date_created
    assert len(client.messages.list(date_sent=today)) == 5
    assert client.messages.list(date_sent_before=today - timedelta(days=1)) == []
    assert len(client.messages.list(date_sent_after=today - timedelta(days=1))) == 5


@pytest.mark.parametrize(
    ("account", "token"),
    [(None, "not-the-token"), ("AC" + "f" * 32, None)],
    ids=["wrong-token", "other-account"],
)
def test_basic_auth_is_checked(fake: FakeTwilio, account: str | None, token: str | None) -> None:
    client = sdk_client(fake, account, token or fake.auth_token, timeout=TIMEOUT)

    with pytest.raises(TwilioRestException) as refused:
        send(client)

    assert (refused.value.status, refused.value.code) == (401, 20003)
    assert fake.messages == {}
    assert fake.requests[-1].status == 401


def test_api_key_auth() -> None:
    key, secret = "SK" + "2" * 32, "key-secret"
    with FakeTwilio(api_keys={key: secret}) as fake:
        client = sdk_client(fake, auth_token=secret, username=key, timeout=TIMEOUT)
        assert send(client).status == "queued"
        assert fake.requests[-1].auth_user == key


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"to": "", "from_": FROM, "body": "x"}, 21604),
        ({"to": TO, "body": "x"}, 21603),
        ({"to": TO, "from_": FROM}, 21602),
        ({"to": TO, "from_": FROM, "body": "x" * 1601}, 21617),
    ],
    ids=["no-to", "no-from", "no-body", "too-long"],
)
def test_create_validates_like_twilio(
    fake: FakeTwilio, client: Client, form: dict[str, str], code: int
) -> None:
    with pytest.raises(TwilioRestException) as invalid:
        client.messages.create(**form)
    assert (invalid.value.status, invalid.value.code) == (400, code)
    assert fake.messages == {}


@pytest.mark.parametrize(
    ("kind", "status", "code", "text"),
    [
        ("500", 500, 20500, "internal server error"),
        ("429", 429, 20429, "Too Many Requests"),
        ("21211", 400, 21211, f"Invalid 'To' Phone Number: {TO}"),
        ("21610", 400, 21610, "unsubscribed recipient"),
        ("21614", 400, 21614, "not a valid mobile number"),
        ("63016", 400, 63016, "outside the allowed window"),
    ],
)
def test_error_faults_raise_twilio_rest_exception(
    fake: FakeTwilio, client: Client, kind: str, status: int, code: int, text: str
) -> None:
    fake.fail_next(kind)  # type: ignore[arg-type]

    with pytest.raises(TwilioRestException) as failed:
        send(client)

    assert (failed.value.status, failed.value.code) == (status, code)
    assert text in failed.value.msg
    assert fake.messages == {}
    assert (fake.requests[-1].status, fake.requests[-1].fault) == (status, kind)
    assert send(client).status == "queued"  # used up


def test_faults_by_count_and_by_predicate(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next("500", times=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException):
            send(client)
    sid = send(client).sid

    fake.fail_when("21610", lambda r: r.form.get("To") == TO_OTHER)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as unsubscribed:
            send(client, to=TO_OTHER)
        assert unsubscribed.value.code == 21610
    assert client.messages(sid).fetch().sid == sid  # creates only, by default
    send(client)

    fake.fail_next("429", match=lambda r: r.action == "fetch")
    with pytest.raises(TwilioRestException) as limited:
        client.messages(sid).fetch()
    assert limited.value.status == 429
    fake.clear_faults()
    send(client, to=TO_OTHER)
    assert [m.to for m in fake.sent()] == [TO, TO, TO_OTHER]


def test_timeout_fault_is_accepted_then_slow(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next("timeout")

    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        send(client)
    elapsed = time.monotonic() - started

    assert TIMEOUT * 0.9 <= elapsed < SLOW / 2  # the client's timeout, not the fake's delay
    [message] = fake.messages.values()
    assert (message.to, message.status, message.deleted) == (TO, "queued", False)
    assert send(client).status == "queued"  # the fake is not wedged by the held answer


def test_sdk_client_timeout_is_honoured(fake: FakeTwilio) -> None:
    fake.fail_next("timeout", delay=SLOW)
    client = sdk_client(fake, timeout=0.5)

    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        send(client)

    assert 0.45 <= time.monotonic() - started < 1.5


def test_reset_fault_creates_nothing(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next("reset")

    with pytest.raises(requests.exceptions.ConnectionError):
        send(client)

    assert fake.messages == {}
    assert (fake.requests[-1].fault, fake.requests[-1].status) == ("reset", None)
    assert send(client).status == "queued"


def test_accept_then_crash_creates_the_message(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next("accept_then_crash")

    with pytest.raises(requests.exceptions.ConnectionError) as dropped:
        send(client)

    assert not isinstance(dropped.value, requests.exceptions.Timeout)
    [message] = fake.messages.values()
    assert message.to == TO
    assert (fake.requests[-1].fault, fake.requests[-1].status) == ("accept_then_crash", None)


def test_set_status_moves_a_message(fake: FakeTwilio, client: Client) -> None:
    sid = send(client).sid

    fake.set_status(sid, "sending")
    fake.set_status(sid, "undelivered", 30003)
    fetched = client.messages(sid).fetch()

    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)
    assert fetched.error_message == "Unreachable destination handset"
    assert fetched.date_sent is not None
    history = fake.messages[sid].status_history
    assert [(c.status, c.error_code) for c in history] == [
        ("queued", None),
        ("sending", None),
        ("undelivered", 30003),
    ]
    with pytest.raises(ValueError, match="unknown status"):
        fake.set_status(sid, "lost")


def test_signed_status_callback_verifies(fake: FakeTwilio, client: Client) -> None:
    sid = send(client).sid

    url, data, headers = fake.status_callback(sid, "delivered")

    assert url == CALLBACK
    assert data == {
        "AccountSid": fake.account_sid,
        "ApiVersion": "2010-04-01",
        "From": FROM,
        "MessageSid": sid,
        "MessageStatus": "delivered",
        "SmsSid": sid,
        "SmsStatus": "delivered",
        "To": TO,
    }
    signature = headers["X-Twilio-Signature"]
    assert RequestValidator(fake.auth_token).validate(url, data, signature)
    assert not RequestValidator("another-token").validate(url, data, signature)
    assert client.messages(sid).fetch().status == "delivered"

    url, data, headers = fake.status_callback(sid, "failed", 63016, url=CALLBACK + "?n=1")
    assert (url, data["ErrorCode"]) == (CALLBACK + "?n=1", "63016")
    assert RequestValidator(fake.auth_token).validate(url, data, headers["X-Twilio-Signature"])
    _, _, unsigned = fake.status_callback(sid, sign_with_token=False)
    assert "X-Twilio-Signature" not in unsigned


def test_status_callback_posts_to_a_flask_app(fake: FakeTwilio, client: Client) -> None:
    app = Flask(__name__)
    seen: list[dict[str, str]] = []

    @app.post("/sms/twilio/status")
    def status() -> Response:
        validator = RequestValidator(fake.auth_token)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form, signature):
            return Response(status=403)
        seen.append(request.form.to_dict())
        return Response(status=204)

    sid = send(client).sid
    web = app.test_client()

    url, data, headers = fake.status_callback(sid, "delivered")
    assert web.post(url, data=data, headers=headers).status_code == 204
    url, data, headers = fake.status_callback(sid, "read", sign_with_token="wrong")
    assert web.post(url, data=data, headers=headers).status_code == 403
    assert [form["MessageStatus"] for form in seen] == ["delivered"]


def test_segments_are_counted_like_twilio(client: Client) -> None:
    cases = {"a" * 160: "1", "a" * 161: "2", "€" * 80: "1", "€" * 81: "2", "я" * 70: "1"}
    cases |= {"я" * 71: "2", "😀" * 35: "1", "😀" * 36: "2"}
    for body, segments in cases.items():
        assert send(client, body=body).num_segments == segments, body
    assert segment_count("a" * 153 * 3) == 3
    assert segment_count("a" * 152 + "€" + "a" * 10) == 2  # an escape never straddles parts


def test_regional_clients_reach_the_fake(fake: FakeTwilio) -> None:
    for region, edge in (("ie1", None), (None, "dublin"), ("au1", "sydney")):
        client = sdk_client(fake, region=region, edge=edge, timeout=TIMEOUT)
        assert send(client).status == "queued"
    assert len(fake.messages) == 3


def test_rebase_twilio_url() -> None:
    path = "/2010-04-01/Accounts/AC1/Messages.json?PageSize=2"
    local = "http://127.0.0.1:8080"
    assert rebase_twilio_url("https://api.twilio.com" + path, local) == local + path
    assert (
        rebase_twilio_url("https://api.dublin.ie1.twilio.com" + path, local + "/") == local + path
    )
    assert rebase_twilio_url("https://api.twilio.com" + path, local + "/twilio") == (
        local + "/twilio" + path
    )
    regional = "https://api.ie1.twilio.com" + path
    assert rebase_twilio_url(regional, TWILIO_API_BASE) == regional
    assert rebase_twilio_url(regional, TWILIO_API_BASE + "/") == regional
    other = "https://lookups.twilio.com/v2/PhoneNumbers/+12025550150"
    assert rebase_twilio_url(other, local) == other
    assert rebase_twilio_url("https://api.twilio.com.evil.example/x", local).startswith("https")


def test_base_url_http_client_keeps_the_sdk_transport() -> None:
    http = BaseUrlHttpClient("http://127.0.0.1:1", timeout=1.5, max_retries=2)
    assert http.timeout == 1.5
    assert http.session.get_adapter("http://x") is http.session.get_adapter("https://x")
    assert http.session.get_adapter("http://x").max_retries.total == 2


def test_concurrent_creates(fake: FakeTwilio) -> None:
    client = sdk_client(fake, timeout=5.0)
    sids: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            sid = send(client, body=f"n{n}").sid
        except Exception as error:
            with lock:
                failures.append(error)
        else:
            with lock:
                sids.append(sid)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10.0)
    assert failures == []
    assert len(fake.wait_for_messages(20, timeout=1.0)) == 20
    assert sorted(sids) == sorted(fake.messages)
    assert len({r.path for r in fake.requests}) == 1


def test_close_is_bounded_and_frees_the_port() -> None:
    fake = FakeTwilio(slow_seconds=30.0).start()
    port = fake.port
    fake.fail_next("timeout")
    client = sdk_client(fake, timeout=5.0)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            send(client)
        except requests.RequestException as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    fake.wait_for_messages(1, timeout=5.0)  # the answer is now being held
    started = time.monotonic()
    fake.close()
    assert time.monotonic() - started < 2.0
    caller.join(5.0)
    assert not caller.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    with pytest.raises(RuntimeError):
        _ = fake.base_url


def test_rejects_unknown_fault_and_routes(fake: FakeTwilio) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        fake.fail_next("503")  # type: ignore[arg-type]
    auth = (fake.account_sid, fake.auth_token)
    base = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}"
    assert requests.get(f"{base}/Calls.json", auth=auth, timeout=2).json()["code"] == 20404
    assert requests.put(f"{base}/Messages.json", auth=auth, timeout=2).status_code == 405
    unauthorised = requests.get(f"{base}/Messages.json", timeout=2)
    assert unauthorised.status_code == 401
    assert unauthorised.headers["WWW-Authenticate"].startswith("Basic")
