"""No phone number, token or address reaches a log line, whatever path it takes there."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from server import gunicorn_conf
from server.logs import MASK, RedactingFilter, configure_logging, redact

# Numbers reserved for fiction, in the shapes people and providers write them.
PHONE_CANARIES = [
    "+447700900123",
    "+44 7700 900123",
    "07700 900123",
    "(555) 010-0199",
    "+1-555-010-0142",
    "whatsapp:+15550100177",
    "+٤٤٧٧٠٠٩٠٠١٢٣",  # the same number in Arabic-Indic digits
    "+၉၅၉၇၇၀၀၉၀၀၁၂၃",  # Burmese digits
]
TOKEN_CANARIES = [
    "AC0123456789abcdef0123456789abcdef",
    "Bearer eyJhbGciOiJIUzI1NiJ9.canary",
    "password=hunter2canary",
    "pin: 4321",
    "dGhpcyBpcyBhIHNlY3JldCBrZXkgY2FuYXJ5MTIz",
]
ADDRESS_CANARIES = ["203.0.113.77", "2001:db8:85a3::8a2e:370:7334", "fe80::1"]
CANARIES = PHONE_CANARIES + TOKEN_CANARIES + ADDRESS_CANARIES


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("refuge.test.canary")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield stream
    logger.removeHandler(handler)


@pytest.mark.parametrize("canary", CANARIES)
def test_a_canary_in_the_message_never_reaches_the_log(captured: io.StringIO, canary: str) -> None:
    logging.getLogger("refuge.test.canary").warning(f"sending to {canary} now")
    assert canary not in captured.getvalue()
    assert MASK in captured.getvalue()


@pytest.mark.parametrize("canary", CANARIES)
def test_a_canary_in_the_arguments_never_reaches_the_log(
    captured: io.StringIO, canary: str
) -> None:
    logging.getLogger("refuge.test.canary").info("inbound from %s: %r", canary, {"to": canary})
    assert canary not in captured.getvalue()


@pytest.mark.parametrize("canary", PHONE_CANARIES)
def test_a_canary_in_an_exception_never_reaches_the_log(captured: io.StringIO, canary: str) -> None:
    try:
        raise ValueError(f"cannot parse {canary}")
    except ValueError:
        logging.getLogger("refuge.test.canary").exception("parse failed")
    output = captured.getvalue()
    assert "ValueError" in output
    assert canary not in output


def test_ordinary_text_is_left_readable() -> None:
    line = "worker sent 12 messages in 3.5 s; 2 retried, revision 0001 at 18:13:43"
    assert redact(line) == line
    path = "/work/main/server/web/health.py line 23"
    assert redact(path) == path


def test_the_application_logger_masks_through_the_root_handler(
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    logging.getLogger("server.conversation").warning("reply to %s failed", "+44 7700 900123")
    logging.getLogger("werkzeug").info('203.0.113.77 - - "GET / HTTP/1.1" 200')
    err = capfd.readouterr().err
    assert "900123" not in err
    assert "203.0.113.77" not in err
    assert "reply to [redacted] failed" in err


def _access_line(path: str, status: str, sent: int, address: str) -> str:
    """The line gunicorn's own logger writes for one request, with Refuge's settings."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    config = Config()
    config.set("access_log_format", gunicorn_conf.access_log_format)
    config.set("accesslog", "-")
    logger = Logger(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger.access_log.handlers = [handler]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": address,
    }
    response = SimpleNamespace(status=status, sent=sent, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    return stream.getvalue().strip()


@pytest.mark.parametrize(("status", "sent"), [("200 OK", 5123), ("404 NOT FOUND", 1981)])
def test_the_access_log_keeps_status_size_and_duration(status: str, sent: int) -> None:
    line = _access_line("/en/resources", status, sent, "203.0.113.77")
    assert line == f"GET /en/resources {status.split()[0]} {sent} 12ms"


def test_the_access_log_masks_a_number_in_the_path_and_never_shows_the_address() -> None:
    line = _access_line("/api/v1/resources/+447700900123", "404 NOT FOUND", 77, "203.0.113.77")
    assert "900123" not in line
    assert "203.0.113.77" not in line
    assert line.startswith("GET ")
    assert line.endswith(f"{MASK} 404 77 12ms")
