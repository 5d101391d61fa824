"""Helpers for the signals tests: a world of tallies in two regions, and the page's cells read
back as a partner's browser shows them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient

from server import db
from server.delivery.outbox import tally
from server.models.staff import Role
from server.signals import counting, report
from tests.portal_helpers import Account, add_account, add_ngo, add_region, log_in

HOME, CHILD, ELSEWHERE = "kharkiv", "saltivka", "odesa"
#: Planted where only Odesa's accounts may look: a count and a word nobody else may see.
ODESA_COUNT = 4242
ODESA_WORD = "odesaonlyword"
#: What the delivery tallies each failure reason is recorded under.
FAILURE_KINDS = list(report.FAILURE_KINDS)


@dataclass(frozen=True)
class World:
    """Kharkiv (with Saltivka under it) and Odesa, tallies in both, a caseworker in Kharkiv."""

    app: Flask
    caseworker: Account
    weeks: tuple[date, ...]


def weeks_now() -> tuple[date, ...]:
    """The completed weeks the page shows today."""
    return report.weeks_before(datetime.now(UTC).date())


def plant(app: Flask, seed: int) -> None:
    """Random tallies, many of them small, for every signal in every region and week shown."""
    chance = random.Random(seed)
    weeks = weeks_now()
    with db.get_database(app).session() as session:
        for region in (HOME, CHILD, ""):
            for week in weeks:
                day = week + timedelta(days=chance.randrange(7))

                def some() -> int:
                    return chance.choice([0, 0, 1, 2, 3, 5, 9, 10, 11, 14, 30, 120])

                for key in report.REQUEST_KEYS:
                    if count := some():
                        tally(session, counting.REQUEST, key, day, count, region=region)
                for note in ("note-water", "note-bridge", counting.UNMATCHED):
                    if count := some():
                        tally(session, counting.CONTEXT_CHECK, note, day, count, region=region)
                for kind in FAILURE_KINDS:
                    if count := some():
                        tally(session, kind, "30003", day, count, region=region)
                if count := some():
                    tally(session, counting.OPT_OUT, "", day, count, region=region)
                tally(session, counting.RUMOUR_WORD, "bridge", week, 10 + some(), region=region)
        for week in weeks:
            tally(session, counting.REQUEST, "shelter", week, ODESA_COUNT, region=ELSEWHERE)
            tally(session, counting.RUMOUR_WORD, ODESA_WORD, week, 40, region=ELSEWHERE)
        # A word fewer than ten numbers sent: only its digests exist, never the word.
        for n in range(9):
            counting.note_words(session, f"+4477009005{n:02d}", HOME, ["zebracanary"], weeks[-1])


def make_world(app: Flask, seed: int = 19) -> World:
    """The world, planted."""
    add_ngo(app, HOME, "Kharkiv Aid")
    add_region(app, CHILD, parent=HOME)
    add_ngo(app, ELSEWHERE, "Odesa Aid")
    caseworker = add_account(app, "kharkiv-caseworker", HOME, Role.CASEWORKER)
    plant(app, seed)
    return World(app, caseworker, weeks_now())


def signed_in(world: World, account: Account | None = None) -> FlaskClient:
    """A client logged in as the account (the world's caseworker by default)."""
    client = world.app.test_client()
    who = account or world.caseworker
    assert log_in(client, who.username, who.password, who.code()).status_code == 302
    return client


class Cells(HTMLParser):
    """The signals page's tables as text: region -> table title -> row label -> cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, dict[str, list[str]]]] = {}
        self.numbers: list[str] = []
        self._region = self._table = self._row = ""
        self._into = ""
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"h2", "h3", "th", "td"}:
            self._into, self._text = tag, ""

    def handle_data(self, data: str) -> None:
        if self._into:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag != self._into:
            return
        text, self._into = self._text.strip(), ""
        if tag == "h2":
            self._region = text
            self.tables[text] = {}
        elif tag == "h3":
            self._table = text
            self.tables[self._region][text] = {}
        elif tag == "th" and self._region and self._table:
            self._row = text
            self.tables[self._region][self._table][text] = []
        elif tag == "td":
            self.numbers.append(text)
            self.tables[self._region][self._table][self._row].append(text)


def cells_of(page: str) -> Cells:
    """Parse a signals page."""
    parser = Cells()
    parser.feed(page)
    return parser
