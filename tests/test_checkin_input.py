"""Whatever arrives at any step of the check-in conversation, it answers within budget."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from tests.checkin_helpers import Clock, Phone, register
from tests.sms_helpers import load_demo_content, over_budget

NASTY = [
    "",
    "\u200f\u200e\u202e1234\u202c",  # direction marks around digits
    "\u200b4\u200b8\u200b2\u200b1",  # zero-width spaces between digits
    "12\x0034",
    "\ud800\udfff",
    "\U0001d7d2\U0001d7d6\U0001d7d0\U0001d7cf",  # mathematical bold digits
    "٤٨٢١٤٨٢١٤٨٢١",
    "ADD",
    "ADD +",
    "ADD +44 7700 900 Sara",
    "ADD +447700900555 " + "x" * 500,
    "OK",
    "OK " + "9" * 400,
    "STOP CHECKIN",
    "NOTE",
    "99:99",
    "25:00",
    "-5",
    "1e3",
    "😀" * 300,
    "a" * 10_000,
]
ANSWERS = ["CHECKIN", "482193", "NO", "12", "30", "Amina", "ADD +447700900555 Sara", "DONE"]


@pytest.mark.parametrize("depth", range(len(ANSWERS) + 1))
def test_nasty_input_at_every_step_is_answered_within_budget(app: Flask, depth: int) -> None:
    load_demo_content(app)
    number = f"+44 7700 9009{depth:02d}"
    register(app, number, "en", "kharkiv")
    phone = Phone(app, number, Clock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC)))
    for answer in ANSWERS[:depth]:
        phone.send(answer)
    for text in NASTY:
        for reply in phone.send(text):
            assert not over_budget(reply), (depth, text[:20], reply)
