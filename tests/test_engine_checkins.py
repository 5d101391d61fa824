"""The check-in conversation in the pure engine, its plan in a fake `CheckinPort`.

The engine parses every check-in word and set-up answer itself; these tests drive it with
plain data, as `test_engine` does for the rest of the conversation (whose fuzz covers
check-ins too). The end-to-end tests with the database are `test_checkins_*`.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.conversation.checkin_port import Checked, Status
from server.conversation.engine import (
    DELETE_ME,
    OPT_OUT,
    Effect,
    Inbound,
    Outcome,
    Situation,
    handle,
)
from server.conversation.state import Flow, State
from tests.fake_checkins import DURESS, PIN, FakeCheckins
from tests.test_engine import MENU, NOW, situation, talk

SET_UP = [
    "CHECKIN",
    "482193",
    "111111",
    "12",
    "30",
    "Amina",
    "ADD +44 7700 900123 Sara",
    "DONE",
    "YES",
]


def planned(
    status: Status | None = Status.ACTIVE,
    *,
    contacts: int = 0,
    partner: str | None = None,
    invited: bool = False,
) -> Situation:
    """A situation whose person has a plan in this status (None: no plan)."""
    fake = FakeCheckins(NOW, status, contacts=contacts, partner=partner, invited=invited)
    return replace(situation(), checkins=fake)


def port(where: Situation) -> FakeCheckins:
    assert isinstance(where.checkins, FakeCheckins)
    return where.checkins


def test_the_whole_set_up_is_asked_and_kept_through_the_port() -> None:
    where = planned(None)
    outcomes = talk(SET_UP, where)
    replies = [outcome.replies[0] for outcome in outcomes]
    assert replies[1].startswith("Optional: a second, duress PIN of 6 to 8 digits.")
    assert replies[2].startswith("How often will you check in?")
    assert replies[3].startswith("If you miss one, how many minutes")
    assert replies[4].startswith("What name do your contacts know you by?")
    assert replies[5].startswith("Add up to 5 trusted contacts")
    assert replies[6] == "Sara added and asked. Add another, or reply DONE."
    assert replies[7].startswith('Your contacts will get: "')
    assert replies[8].startswith("Check-ins are on. Next: ")
    assert [outcome.state.flow for outcome in outcomes] == [
        *(Flow.PIN, Flow.DURESS, Flow.SCHEDULE, Flow.GRACE, Flow.NAME, Flow.CONTACTS),
        *(Flow.CONTACTS, Flow.MESSAGE, None),
    ]
    plan = port(where)
    assert (plan.pin, plan.duress, plan.hours, plan.grace, plan.name) == (
        PIN,
        DURESS,
        12,
        30,
        "Amina",
    )
    assert plan.status is Status.ACTIVE
    assert [line.name for line in plan.mine] == ["Sara"]


def test_an_ngo_is_offered_where_one_takes_alerts() -> None:
    where = planned(None, partner="Safe Haven")
    outcomes = talk([*SET_UP, "maybe", "YES"], where)
    assert outcomes[8].replies == [
        "Also alert Safe Haven, and tell them if you left a note? Reply YES or NO."
    ]
    assert outcomes[9].replies == ["Reply YES or NO."]
    assert outcomes[10].replies[0].startswith("Check-ins are on.")
    assert port(where).ngo


@pytest.mark.parametrize(
    ("flow", "text", "again"),
    [
        (Flow.PIN, "12", "A PIN is 6 to 8 digits. Check-in set-up."),
        (Flow.DURESS, "482193", "The duress PIN must differ from your PIN. Optional:"),
        (Flow.SCHEDULE, "99:99", "That is not a time. How often"),
        (Flow.SCHEDULE, "500", "That is not a number of hours. How often"),
        (Flow.GRACE, "2", "That is not a number of minutes. If you miss one"),
        (Flow.CONTACTS, "DONE", "Add at least one contact first. Add up to 5"),
    ],
)
def test_a_wrong_set_up_answer_asks_the_same_question_again(
    flow: Flow, text: str, again: str
) -> None:
    where = planned(Status.SETUP)
    port(where).pin = PIN
    outcome = handle(State(flow=flow), Inbound(text), where)
    assert outcome.replies[0].startswith(again), outcome.replies
    assert outcome.state.flow is flow


def test_menu_cancels_the_set_up_and_stop_still_opts_out() -> None:
    where = planned(None)
    cancelled = talk(["CHECKIN", "0"], where)[-1]
    assert cancelled.replies == [MENU]
    assert cancelled.state.flow is None
    stopped = talk(["CHECKIN", "482193", "STOP"], planned(None))[-1]
    assert stopped.effects == [Effect(OPT_OUT)]


def test_a_set_up_answer_is_read_as_the_answer_not_a_menu_number() -> None:
    where = planned(None)
    outcome = talk(["CHECKIN", "482193", "NO", "5"], where)[-1]
    assert outcome.replies[0].startswith("If you miss one")  # 5 hours, not the language menu
    assert outcome.state.flow is Flow.GRACE
    assert port(where).hours == 5


# --- A running plan ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("OK 482193", "Thank you. Next check-in:"),
        ("PAUSE 482193", "Check-ins paused. Reply RESUME and your PIN to start again."),
        ("STOP CHECKIN 482193", "Check-ins stopped. Reply CHECKIN to set them up again."),
        ("OK 0000", "That PIN is not right. Try again."),
        ("PAUSE", "Send PAUSE and your PIN."),
        ("STOP CHECKIN", "Send STOP CHECKIN and your PIN."),
        ("CHECKIN STATUS 482193", "Check-ins: on. Next:"),
        ("STATUS 482193", "Check-ins: on. Next:"),
        ("CHECKIN STATUS", "You have no check-ins. Reply CHECKIN to set them up."),
        ("CHECKIN STATUS 0000", "You have no check-ins. Reply CHECKIN to set them up."),
        ("CHECKIN", "Check-in set-up. Choose a PIN of 6 to 8 digits"),
        ("NOTE", "Send NOTE and your message."),
        ("NOTE they took my phone", "No caseworker takes notes here yet. Nothing was kept."),
        ("REMOVE Sara", "Send REMOVE, the contact's name or number, and your PIN."),
        ("REMOVE Nobody 482193", "No contact by that name or number."),
        (
            "REMOVE Contact 0 482193",
            "Contact removed: Contact 0. Refuge will send them no more alerts.",
        ),
    ],
)
def test_the_words_of_a_running_plan(text: str, answer: str) -> None:
    outcome = handle(State(flow=Flow.STEP, checklist="phone"), Inbound(text), planned(contacts=2))
    assert outcome.replies[0].startswith(answer), outcome.replies
    assert outcome.effects == []


def test_status_counts_the_contacts_shown_and_menu_four_pretends_a_set_up() -> None:
    outcome = handle(State(), Inbound("CHECKIN STATUS 482193"), planned(contacts=3))
    assert outcome.replies[0].endswith(
        "Contacts: 2 agreed, 1 waiting. OK and your PIN to check in."
    )
    assert handle(State(), Inbound("4"), planned(contacts=3)).replies == (
        handle(State(), Inbound("4"), planned(None)).replies
    )


def test_without_a_plan_a_pin_is_told_to_set_up() -> None:
    for text in (
        "OK 482193",
        "PAUSE 482193",
        "STOP CHECKIN 482193",
        "STATUS",
        "REMOVE Sara 482193",
    ):
        outcome = handle(State(), Inbound(text), planned(None))
        assert outcome.replies == ["You have no check-ins. Reply CHECKIN to set them up."], text


def test_a_check_in_word_leaves_the_set_up_question() -> None:
    outcome = handle(State(flow=Flow.GRACE), Inbound("STATUS 482193"), planned(Status.PAUSED))
    assert outcome.state.flow is None
    assert outcome.replies[0].startswith("Check-ins: paused. Next: -.")


def test_resume_with_the_pin_starts_a_new_period() -> None:
    where = planned(Status.PAUSED)
    assert handle(State(), Inbound("RESUME"), where).replies == [
        "You have no check-ins. Reply CHECKIN to set them up."
    ]
    assert port(where).status is Status.PAUSED
    replies = handle(State(), Inbound("RESUME 482193"), where).replies
    assert replies[0].startswith("Check-ins resumed.")
    assert port(where).status is Status.ACTIVE


def test_without_a_port_check_in_words_get_no_reply() -> None:
    where = replace(situation(), checkins=None)
    for text in ("4", "OK 482193", "STOP CHECKIN 482193", "CHECKIN STATUS"):
        assert handle(State(), Inbound(text), where) == Outcome(state=State())


# --- The duress PIN ---------------------------------------------------------------------------

CHECKIN_WORDS = ["OK {pin}", "PAUSE {pin}", "STOP CHECKIN {pin}", "REMOVE Contact 1 {pin}"]


def _with_pin(text: str, pin: str, state: State, status: Status | None) -> tuple[Outcome, int]:
    where = planned(status, contacts=2)
    outcome = handle(state, Inbound(text.format(pin=pin)), where)
    return outcome, port(where).alerts


@pytest.mark.parametrize("text", CHECKIN_WORDS)
def test_the_duress_pin_answers_exactly_like_the_pin_and_raises_an_alert(text: str) -> None:
    real, real_alerts = _with_pin(text, PIN, State(), Status.ACTIVE)
    forced, forced_alerts = _with_pin(text, DURESS, State(), Status.ACTIVE)
    assert forced == real
    assert (real_alerts, forced_alerts) == (0, 1)


def test_a_contact_removed_with_the_duress_pin_is_only_hidden() -> None:
    where = planned(contacts=2)
    handle(State(), Inbound(f"REMOVE Contact 1 {DURESS}"), where)
    assert [line.name for line in port(where).mine] == ["Contact 0", "Contact 1"]
    assert [line.name for line in port(where).shown_contacts()] == ["Contact 0"]


@settings(max_examples=60, deadline=None)
@given(
    text=st.sampled_from(CHECKIN_WORDS),
    flow=st.none() | st.sampled_from(Flow),
    status=st.none() | st.sampled_from(Status),
)
def test_whatever_the_state_the_duress_pin_cannot_be_told_from_the_pin(
    text: str, flow: Flow | None, status: Status | None
) -> None:
    state = State(flow=flow, checklist="phone")
    real, _ = _with_pin(text, PIN, state, status)
    forced, _ = _with_pin(text, DURESS, state, status)
    assert forced == real


def test_too_many_tries_are_refused_whatever_the_pin() -> None:
    where = planned()
    for _ in range(10):
        handle(State(), Inbound("OK 0000"), where)
    outcome = handle(State(), Inbound(f"OK {PIN}"), where)
    assert outcome.replies == ["Too many tries. Try again later."]
    assert port(where).check_in(PIN) is Checked.LIMITED


# --- Invitations ------------------------------------------------------------------------------


def test_an_invitations_yes_is_thanked_and_the_place_kept() -> None:
    where = planned(None, invited=True)
    state = State(flow=Flow.STEP, checklist="phone", step=2)
    outcome = handle(state, Inbound("YES"), where)
    assert outcome.replies == ["Thank you, your answer is noted."]
    assert outcome.state == state
    assert outcome.effects == []


def test_a_yes_to_delete_erases_and_leaves_the_invitation_waiting() -> None:
    where = planned(None, invited=True)
    outcome = handle(State(flow=Flow.DELETE), Inbound("YES"), where)
    assert outcome.effects == [Effect(DELETE_ME)]
    assert port(where).invited


def test_a_yes_without_an_invitation_is_read_as_usual() -> None:
    outcome = handle(State(), Inbound("YES"), planned(None))
    assert outcome.replies == [MENU]


def test_a_pretended_set_up_changes_nothing_and_its_duress_pin_alerts() -> None:
    where = planned(contacts=2)
    state = State()
    for text in ("CHECKIN", "650274", "111111", "6", "30", "Pat"):
        outcome = handle(state, Inbound(text), where)
        state = outcome.state
    assert state.flow is Flow.CONTACTS
    fake = port(where)
    assert (fake.status, fake.pin, fake.duress, len(fake.mine)) == (
        Status.ACTIVE,
        "482193",
        "111111",
        2,
    )
    assert fake.alerts == 1
