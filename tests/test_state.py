"""The conversation state: every shape ever stored is read, and a person keeps their place.

Version 1 (`"v": 1`) is what `server.conversation.turn` wrote before the state was typed: the
flow by name, the check-in set-up's question apart in `ck`. A state that cannot be read starts
the conversation afresh; it never fails a message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from server import db, people
from server.conversation.state import VERSION, Flow, State, Then
from server.phones import normalize_phone
from tests.checkin_helpers import Clock, Phone, plan_facts, register
from tests.sms_helpers import load_demo_content

#: The set-up questions as version 1 named them in `ck`.
VERSION_1_STEPS = {
    "pin": Flow.PIN,
    "duress": Flow.DURESS,
    "schedule": Flow.SCHEDULE,
    "grace": Flow.GRACE,
    "name": Flow.NAME,
    "contacts": Flow.CONTACTS,
    "later": Flow.LATER,
    "message": Flow.MESSAGE,
    "ngo": Flow.NGO,
}


@pytest.mark.parametrize("raw", [{}, None, [], "flow", {"flow": "region", "then": "news"}])
def test_a_new_or_unversioned_state_starts_afresh(raw: object) -> None:
    assert State.from_stored(raw) == State()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"v": 1, "flow": "region", "then": "news", "path": ["north"]},
            State(flow=Flow.REGION, then=Then.NEWS, path=("north",)),
        ),
        (
            {"v": 1, "flow": "category", "then": "find", "path": [], "region": "river-camp"},
            State(flow=Flow.CATEGORY, region="river-camp"),
        ),
        (
            {"v": 1, "flow": None, "category": "medical", "region": "south", "path": []},
            State(category="medical", region="south"),
        ),
        ({"v": 1, "flow": "secure"}, State(flow=Flow.SECURE)),
        (
            {"v": 1, "flow": "step", "checklist": "phone", "step": 2, "progress": {"phone": 2}},
            State(flow=Flow.STEP, checklist="phone", step=2, progress=(("phone", 2),)),
        ),
        ({"v": 1, "flow": "lang"}, State(flow=Flow.LANG)),
        ({"v": 1, "flow": "check"}, State(flow=Flow.CHECK)),
        ({"v": 1, "flow": "delete"}, State(flow=Flow.DELETE)),
        ({"v": 1, "more": ["page 2", "page 3"]}, State(more=("page 2", "page 3"))),
        ({"v": 1, "progress": {"sim": 3}}, State(progress=(("sim", 3),))),
    ],
)
def test_every_version_1_menu_flow_keeps_its_place(raw: dict[str, Any], expected: State) -> None:
    assert State.from_stored(raw) == expected


@pytest.mark.parametrize(("step", "flow"), list(VERSION_1_STEPS.items()))
def test_every_version_1_check_in_question_becomes_its_flow(step: str, flow: Flow) -> None:
    raw = {"v": 1, "flow": "checkin", "ck": step, "progress": {"phone": 2}}
    assert State.from_stored(raw) == State(flow=flow, progress=(("phone", 2),))
    assert flow.setting_up


@pytest.mark.parametrize(
    ("raw", "flow"),
    [
        ({"v": 1, "flow": "checkin"}, None),
        ({"v": 1, "flow": "checkin", "ck": "bogus"}, None),
        ({"v": 1, "flow": "checkin", "ck": 3}, None),
        ({"v": 1, "flow": "step", "ck": "pin"}, Flow.STEP),  # a left-over of the set-up
    ],
)
def test_a_version_1_check_in_question_that_is_not_known_is_dropped(
    raw: dict[str, Any], flow: Flow | None
) -> None:
    assert State.from_stored(raw).flow is flow


def test_unknown_keys_and_values_of_the_wrong_kind_are_dropped() -> None:
    raw = {
        "v": 1,
        "flow": "gone",
        "then": "elsewhere",
        "path": "north",
        "region": 7,
        "step": "2",
        "progress": {"phone": "x", "sim": 3, "pin": True},
        "more": [1, "page"],
        "extra": {"nested": True},
    }
    assert State.from_stored(raw) == State(progress=(("sim", 3),), more=("page",))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)
KEYS = ["flow", "ck", "then", "path", "region", "category", "checklist"]
STORED = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 2, 2]) | JSON},
    optional={key: JSON | st.sampled_from(["checkin", "pin", "step", "news"]) for key in KEYS}
    | {"step": JSON, "progress": JSON, "more": JSON},
)


@given(STORED)
def test_whatever_was_stored_is_read_without_an_error(raw: dict[str, Any]) -> None:
    state = State.from_stored(raw)
    assert State.from_stored(state.stored()) == state


def test_a_newer_version_than_this_code_knows_starts_afresh() -> None:
    assert State.from_stored({"v": VERSION + 1, "flow": "region"}) == State()


def test_the_current_shape_names_every_question_by_one_flow() -> None:
    assert State(flow=Flow.SCHEDULE).stored() == {"v": VERSION, "flow": "checkin-schedule"}
    assert State().stored() == {"v": VERSION}


STATES = st.builds(
    State,
    flow=st.none() | st.sampled_from(Flow),
    then=st.sampled_from(Then),
    path=st.lists(st.text(min_size=1), max_size=3).map(tuple),
    region=st.none() | st.text(min_size=1),
    category=st.none() | st.text(min_size=1),
    checklist=st.text(),
    step=st.integers(-3, 30).filter(bool),
    progress=st.dictionaries(st.text(), st.integers(1, 9), max_size=3).map(
        lambda found: tuple(sorted(found.items()))
    ),
    more=st.lists(st.text(), max_size=3).map(tuple),
)


@given(STATES)
def test_a_stored_state_reads_back_the_same(state: State) -> None:
    assert State.from_stored(state.stored()) == state


# --- A person in the middle of a question when the new version is deployed --------------------

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERSON = "+44 7700 900651"


def _store(app: Flask, number: str, raw: dict[str, Any]) -> None:
    with db.get_database(app).session() as session:
        person = people.find_subscriber(session, normalize_phone(number))
        assert person is not None
        people.save_state(person, raw)


def _stored(app: Flask, number: str) -> dict[str, Any]:
    with db.get_database(app).session() as session:
        person = people.find_subscriber(session, normalize_phone(number))
        assert person is not None
        return people.load_state(person)


def test_a_check_in_set_up_stored_in_version_1_goes_on_at_its_question(app: Flask) -> None:
    load_demo_content(app)
    register(app, PERSON, "en", "kharkiv")
    phone = Phone(app, PERSON, Clock(START))
    phone.ask("CHECKIN")
    phone.ask("482193")
    phone.ask("NO")  # asked: how often?
    _store(app, PERSON, {"v": 1, "flow": "checkin", "ck": "schedule"})
    assert phone.ask("12").startswith("If you miss one, how many minutes")
    settings, _state, _next = plan_facts(app, PERSON)
    assert settings.hours == 12
    assert _stored(app, PERSON) == {"v": VERSION, "flow": "checkin-grace"}


def test_a_checklist_stored_in_version_1_goes_on_at_its_step(app: Flask) -> None:
    load_demo_content(app)
    register(app, PERSON, "en", "kharkiv")
    phone = Phone(app, PERSON, Clock(START))
    first = phone.ask("3")
    guide = next(line.split(" ", 1)[1] for line in first.split("\n") if line.startswith("1 "))
    opened = phone.ask("1")
    assert "(1/" in opened, (guide, opened)
    stored = _stored(app, PERSON)
    _store(app, PERSON, {**stored, "v": 1})
    assert "(2/" in phone.ask("NEXT")
    assert State.from_stored(_stored(app, PERSON)).step == 2
