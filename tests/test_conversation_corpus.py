"""A corpus of whole conversations through the webhook: every reply fits its segment budget.

The corpus (tests/sms_helpers.py) covers every command and flow on the shipped demo content.
A reply may cost 2 segments in GSM-7 and 3 in UCS-2, measured on the text a phone receives
(the TwiML parsed and unescaped); English replies stay GSM-7, except the language list, which
names each language in its own script.
"""

from __future__ import annotations

import pytest
from flask import Flask

from server import segments
from server.conversation.vocabulary import Command
from tests.sms_helpers import CONVERSATIONS, Exchange, keyword, localise, over_budget, run_corpus


def _over(exchanges: list[Exchange]) -> list[tuple[str, str, segments.Measure, str]]:
    return [
        (exchange.conversation, exchange.sent, segments.measure(reply), reply)
        for exchange in exchanges
        for reply in exchange.replies
        if over_budget(reply)
    ]


def test_the_corpus_uses_every_command_keyword() -> None:
    sent = {message for messages in CONVERSATIONS.values() for message in messages}
    used = {command for command in Command if any(f"<{command.name}>" in m for m in sent)}
    assert used == set(Command)
    assert localise("<STOP> <3>", "ar") == f"{keyword('ar', 'STOP')} ٣"


def test_english_replies_are_gsm7_and_fit_two_segments(app: Flask) -> None:
    exchanges = run_corpus(app, ["en"])
    assert sum(len(exchange.replies) for exchange in exchanges) > 150
    assert _over(exchanges) == []
    ucs2 = [
        (exchange.conversation, exchange.sent, reply)
        for exchange in exchanges
        for reply in exchange.replies
        if segments.measure(reply).encoding != "GSM-7"
    ]
    assert all(sent == "LANG" for _, sent, _ in ucs2), ucs2
    assert len(ucs2) == 2  # the language list, asked for twice


@pytest.mark.parametrize("locale", ["ar", "my"])
def test_every_reply_fits_its_segment_budget(app: Flask, locale: str) -> None:
    exchanges = run_corpus(app, [locale])
    replies = [reply for exchange in exchanges for reply in exchange.replies]
    assert len(replies) > 150
    assert any(segments.measure(reply).encoding == "UCS-2" for reply in replies)
    assert _over(exchanges) == []
