"""The conversation engine on its own: no Flask, no database, content from a fake `ContentPort`.

`handle(state, Inbound, Situation)` is a pure function, so every path is driven here with plain
data, and a Hypothesis fuzz feeds it hostile text and realistic prior states.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import segments
from server.content.places import PlaceNames
from server.content.text import fold
from server.conversation.checkin_port import Status
from server.conversation.engine import (
    CONTEXT_CHECKED,
    DELETE_ME,
    OPT_IN,
    OPT_OUT,
    RUMOUR_WORDS,
    SET_LOCALE,
    SET_REGION,
    Effect,
    Inbound,
    Outcome,
    Situation,
    clean_input,
    handle,
)
from server.conversation.port import (
    BulletinLine,
    ChecklistLine,
    ContextLine,
    RegionChoice,
    ResourceLine,
    StepLine,
)
from server.conversation.state import Flow, State, Then
from server.conversation.vocabulary import Command, recognise
from server.i18n.locales import catalogue
from tests.fake_checkins import FakeCheckins
from tests.sms_helpers import ALL_LOCALES

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MENU = (
    "Refuge. Reply a number:\n1 Find help\n2 News\n3 Secure your phone\n4 Check-in\n"
    "5 Language\nOr CHECK and a message to check a rumour"
)
MORE_PROMPT = "\nReply MORE for more"
LONG_SUMMARY = (
    "Roads to the river crossing are closed after the floods. Families in low blocks should "
    "move to the school on the hill, which is open day and night. Bring documents in a plastic "
    "bag. Water points 3 and 4 are closed; use points 1 and 2 until further notice. The mobile "
    "clinic keeps its usual hours and sees children first."
)


class FakeContent:
    """A small world: two areas (one with two camps), three categories, two 3-step guides."""

    TREE: dict[str | None, list[RegionChoice]] = {  # noqa: RUF012 (read-only fixture data)
        None: [
            RegionChoice("north", "North Province", has_children=True),
            RegionChoice("south", "South Coast"),
        ],
        "north": [RegionChoice("river-camp", "River Camp"), RegionChoice("hill-camp", "Hill Camp")],
    }
    CATEGORIES = (("medical", "Medical care"), ("shelter", "Shelter"), ("food", "Food and water"))
    RESOURCES = (
        (
            "river-camp",
            "medical",
            ResourceLine(
                "River Clinic",
                "+44 7700 900201",
                "+44 7700 900202",
                date(2026, 11, 1),
                False,
                False,
            ),
        ),
        (
            "river-camp",
            "shelter",
            ResourceLine("Safe House", "+44 7700 900203", None, date(2026, 11, 2), False, True),
        ),
        (
            "hill-camp",
            "food",
            ResourceLine("Hill Kitchen", "+44 7700 900204", None, date(2025, 1, 5), True, False),
        ),
        (
            "south",
            "medical",
            ResourceLine(
                "Coast Health Post", "+1 202 555 0160", None, date(2026, 11, 9), False, False
            ),
        ),
    )
    GUIDES = (
        ChecklistLine("phone", "Lock your phone", 3),
        ChecklistLine("sim", "Protect your SIM", 3),
    )

    def regions(self, parent: str | None, locale: str) -> list[RegionChoice]:
        return list(self.TREE.get(parent, []))

    def region(self, slug: str, locale: str) -> RegionChoice | None:
        return next((r for level in self.TREE.values() for r in level if r.slug == slug), None)

    def place_names(self) -> PlaceNames:
        return PlaceNames.of(
            (choice.slug, parent, [choice.name])
            for parent, level in self.TREE.items()
            for choice in level
        )

    def emergency_number(self, region: str) -> str | None:
        return None

    def category_names(self, locale: str) -> list[tuple[str, str]]:
        return list(self.CATEGORIES)

    def _within(self, region: str) -> set[str]:
        return {region} | {child.slug for child in self.TREE.get(region, [])}

    def resources(
        self, region: str, category: str | None, locale: str, offset: int, limit: int
    ) -> list[ResourceLine]:
        found = [
            line
            for place, kind, line in self.RESOURCES
            if place in self._within(region) and category in {None, kind}
        ]
        return found[offset : offset + limit]

    def search(self, text: str, region: str | None, locale: str, limit: int) -> list[ResourceLine]:
        wanted = fold(text).split()
        places = self._within(region) if region else {place for place, _, _ in self.RESOURCES}
        found = [
            line
            for place, _kind, line in self.RESOURCES
            if place in places and any(word in fold(line.name) for word in wanted)
        ]
        return found[:limit]

    def bulletins(self, region: str | None, locale: str, now: datetime) -> list[BulletinLine]:
        return [
            BulletinLine(
                "alert", "Floods on the river road", LONG_SUMMARY, "Area Office", date(2026, 11, 25)
            ),
            BulletinLine(
                "advisory", "Winter blankets", LONG_SUMMARY, "Shelter Team", date(2026, 11, 20)
            ),
            BulletinLine(
                "context",
                "Rumour: the water is poisoned",
                "Tests found it safe.",
                "Water Team",
                date(2026, 11, 18),
            ),
        ]

    def checklists(self, locale: str) -> list[ChecklistLine]:
        return list(self.GUIDES)

    def step(self, checklist: str, index: int, locale: str) -> StepLine | None:
        guide = next((g for g in self.GUIDES if g.id == checklist), None)
        if guide is None or not 1 <= index <= guide.steps:
            return None
        return StepLine(
            f"Step {index}", f"{guide.title}, step {index}: do this now.", index, guide.steps
        )

    def context_notes(
        self, text: str, region: str | None, locale: str, now: datetime
    ) -> list[ContextLine]:
        if "poison" not in fold(text):
            return []
        return [
            ContextLine(
                "water-rumour",
                "Rumour: the water is poisoned",
                "Tests at every water point were normal.",
                "Water Team",
                date(2026, 11, 18),
                0.9,
            )
        ]

    def language_names(self) -> list[tuple[str, str]]:
        # Latin names, so that every English reply can be held to GSM-7.
        return [("en", "English"), ("ar", "Arabic"), ("my", "Burmese")]


CONTENT = FakeContent()


def situation(locale: str = "en", region: str | None = None, opted_out: bool = False) -> Situation:
    return Situation(
        locale=locale,
        region=region,
        opted_out=opted_out,
        now=NOW,
        content=CONTENT,
        locales=tuple(ALL_LOCALES),
        checkins=FakeCheckins(NOW),
    )


def talk(
    messages: list[str], where: Situation | None = None, state: State | None = None
) -> list[Outcome]:
    """Send messages one after the other, carrying the state and applying locale/region effects."""
    where = where or situation()
    state = state or State()
    outcomes = []
    for text in messages:
        outcome = handle(state, Inbound(text), where)
        outcomes.append(outcome)
        state = outcome.state
        for effect in outcome.effects:
            if effect.kind == SET_REGION:
                where = replace(where, region=effect.value)
            elif effect.kind == SET_LOCALE and effect.value:
                where = replace(where, locale=effect.value)
            elif effect.kind in {OPT_OUT, OPT_IN}:
                where = replace(where, opted_out=effect.kind == OPT_OUT)
    return outcomes


def last_reply(messages: list[str], where: Situation | None = None) -> str:
    outcome = talk(messages, where)[-1]
    assert len(outcome.replies) == 1, outcome
    return outcome.replies[0]


# --- The menu ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["what is this?", "hi", "HI", "Hello", "MENU", "menu", "0", "\u0660", ""]
)
def test_unknown_text_greetings_menu_and_zero_show_the_menu(text: str) -> None:
    outcome = handle(State(), Inbound(text), situation())
    assert outcome.replies == [MENU]
    assert outcome.effects == []
    assert outcome.state.flow is None


@pytest.mark.parametrize(
    ("digit", "expected", "flow"),
    [
        ("1", "Where are you? Reply a number:\n1 North Province\n2 South Coast", "region"),
        ("2", "Where are you? Reply a number:\n1 North Province\n2 South Coast", "region"),
        ("3", "Choose a guide:\n1 Lock your phone\n2 Protect your SIM", "secure"),
        ("5", "Reply a number:\n1 English\n2 Arabic\n3 Burmese", "lang"),
    ],
)
def test_menu_numbers_route_to_their_command(digit: str, expected: str, flow: str) -> None:
    outcome = handle(State(), Inbound(digit), situation())
    assert outcome.replies == [expected]
    assert outcome.state.flow is Flow(flow)


def test_menu_number_one_finds_help_and_two_shows_the_news() -> None:
    assert handle(State(), Inbound("1"), situation()).state.then is Then.FIND
    assert handle(State(), Inbound("2"), situation()).state.then is Then.NEWS
    news = handle(State(), Inbound("2"), situation(region="south")).replies[0]
    assert news.startswith("ALERT: Floods on the river road")


def test_menu_number_four_starts_the_check_in_set_up() -> None:
    outcome = handle(State(), Inbound("4"), situation())
    assert outcome.effects == []
    assert outcome.state.flow is Flow.PIN
    assert outcome.replies[0].startswith("Check-in set-up. Choose a PIN of 6 to 8 digits")


def test_stop_checkin_is_the_check_in_word_instead_of_an_opt_out() -> None:
    outcome = handle(State(), Inbound("STOP CHECKIN 482193"), situation())
    assert outcome.effects == []
    assert outcome.replies == ["You have no check-ins. Reply CHECKIN to set them up."]
    assert "482193" not in repr(outcome)  # a PIN never reaches a log through repr


@pytest.mark.parametrize(
    ("native", "ascii_digit"), [("\u0661", "1"), ("٣", "3"), ("၁", "1"), ("၃", "3"), ("৫", "5")]
)
def test_arabic_indic_burmese_and_bengali_digits_work_like_ascii(
    native: str, ascii_digit: str
) -> None:
    assert handle(State(), Inbound(native), situation()).replies == (
        handle(State(), Inbound(ascii_digit), situation()).replies
    )


@pytest.mark.parametrize("digit", ["፩", "𐩀", "፪"])
def test_a_digit_without_a_decimal_value_is_answered_not_a_crash(digit: str) -> None:
    # Ethiopic and Kharosthi digits are str.isdigit() but not decimal: int() refuses them.
    outcome = handle(State(), Inbound(digit), situation())
    assert outcome.replies == [MENU]


# --- Finding help -----------------------------------------------------------------------------


def test_a_region_with_children_drills_down_then_settles_on_a_leaf() -> None:
    first, second, third = talk(["1", "1", "1"])
    assert first.replies == ["Where are you? Reply a number:\n1 North Province\n2 South Coast"]
    assert second.replies == [
        "Where are you? Reply a number:\n1 River Camp\n2 Hill Camp\n3 All of North Province"
    ]
    assert second.effects == []
    assert third.effects == [Effect(SET_REGION, "river-camp")]
    assert third.replies[0].startswith("What do you need?\n1 Medical care\n2 Shelter\n3 Food and")
    assert third.replies[0].endswith("\n4 Everything")
    assert third.state.flow is Flow.CATEGORY


def test_all_of_a_region_settles_on_the_region_itself() -> None:
    outcome = talk(["1", "1", "3"])[-1]
    assert outcome.effects == [Effect(SET_REGION, "north")]
    assert outcome.state.region == "north"


def test_a_region_without_children_settles_at_once_and_can_be_named() -> None:
    assert talk(["1", "2"])[-1].effects == [Effect(SET_REGION, "south")]
    assert talk(["1", "south coast"])[-1].effects == [Effect(SET_REGION, "south")]


def test_a_category_is_picked_by_number_and_by_name() -> None:
    where = situation(region="river-camp")
    by_number = last_reply(["1", "1"], where)
    by_name = last_reply(["1", "Medical care"], where)
    assert by_number == by_name
    assert by_number.startswith("River Clinic\n+44 7700 900201\nWhatsApp: +44 7700 900202\n")
    assert "Safe House" not in by_number


def test_everything_lists_every_category_below_the_region() -> None:
    reply = last_reply(["1", "4"], situation(region="north"))
    for name in ("River Clinic", "Safe House", "Hill Kitchen"):
        assert name in reply
    assert "Coast Health Post" not in reply


def test_find_with_a_category_word_skips_the_question() -> None:
    reply = last_reply(["FIND shelter"], situation(region="river-camp"))
    assert reply.startswith("Safe House\n")


def test_a_confidential_resource_shows_call_first_and_no_address() -> None:
    reply = last_reply(["1", "2"], situation(region="river-camp"))
    assert reply.split("\n") == ["Safe House", "Call first: +44 7700 900203", "Checked 2 Nov 2026"]


def test_a_stale_resource_says_it_may_be_out_of_date() -> None:
    reply = last_reply(["1", "3"], situation(region="hill-camp"))
    assert reply.split("\n") == [
        "Hill Kitchen",
        "+44 7700 900204",
        "Checked 5 Jan 2025, may be out of date",
    ]


def test_no_resource_found_offers_to_search_again() -> None:
    reply = last_reply(["1", "3"], situation(region="south"))
    assert reply.startswith("No verified help found")


# --- News and MORE ----------------------------------------------------------------------------


def test_a_long_answer_is_paged_with_more() -> None:
    outcomes = talk(["2", "MORE", "MORE", "MORE", "MORE"], situation(region="south"))
    pages = [outcome.replies[0] for outcome in outcomes]
    assert pages[0].endswith(MORE_PROMPT)
    assert "Floods on the river road" in pages[0]
    stored = list(outcomes[0].state.more)
    assert pages[1 : 1 + len(stored)] == stored
    assert pages[len(stored)].endswith("(Water Team, 18 Nov 2026)")
    assert pages[len(stored) + 1].startswith("There is nothing more.\nRefuge.")
    for page in pages:
        assert not segments.measure(page).segments > 2, page


class MixedContent(FakeContent):
    """Partner content in two scripts: an English bulletin, then one only written in Arabic."""

    def bulletins(self, region: str | None, locale: str, now: datetime) -> list[BulletinLine]:
        arabic = BulletinLine(
            "advisory",
            "توزيع المياه",
            "يبدأ توزيع المياه في الساحة الرئيسية صباح الغد.",
            "مكتب القضارف",
            date(2026, 11, 26),
        )
        return [*super().bulletins(region, locale, now)[:1], arabic]


def test_a_gsm7_page_of_a_ucs2_reply_keeps_to_the_gsm7_budget() -> None:
    # The whole answer is UCS-2 (budget 3), but its first page is English only and goes out
    # as GSM-7, whose budget is 2: it must not cost 3 GSM-7 segments.
    where = replace(situation(region="south"), content=MixedContent())
    outcomes = talk(["2", "MORE", "MORE"], where)
    pages = [page for outcome in outcomes for page in outcome.replies]
    assert any(segments.measure(page).encoding == "UCS-2" for page in pages)
    for page in pages:
        measured = segments.measure(page)
        assert measured.segments <= segments.default_budget(measured.encoding), (measured, page)


# --- Checklists -------------------------------------------------------------------------------


def test_next_and_back_move_through_a_checklist_and_it_resumes_where_left() -> None:
    outcomes = talk(["3", "1", "NEXT", "NEXT", "BACK", "0", "3", "1"])
    replies = [outcome.replies[0] for outcome in outcomes]
    assert replies[1] == "Lock your phone, step 1: do this now.\n(1/3) NEXT, BACK or 0 for menu"
    assert replies[2].endswith("(2/3) NEXT, BACK or 0 for menu")
    assert replies[3].endswith("(3/3) NEXT, BACK or 0 for menu")
    assert replies[4].endswith("(2/3) NEXT, BACK or 0 for menu")
    assert replies[5] == MENU
    assert dict(outcomes[5].state.progress) == {"phone": 2}
    assert replies[7].startswith("Lock your phone, step 2:")


def test_back_on_the_first_step_stays_there() -> None:
    assert last_reply(["3", "2", "BACK"]).startswith("Protect your SIM, step 1:")


def test_a_finished_checklist_says_so_and_starts_over_next_time() -> None:
    outcomes = talk(["3", "1", "NEXT", "NEXT", "NEXT", "3", "1"])
    assert outcomes[4].replies == ["Well done: that guide is complete. Reply 3 for another."]
    assert "phone" not in dict(outcomes[4].state.progress)
    assert outcomes[6].replies[0].startswith("Lock your phone, step 1:")


@pytest.mark.parametrize("move", ["BACK", "NEXT"])
def test_a_checklist_that_is_gone_says_so_on_any_move(move: str) -> None:
    # The guide was retired from the content while the person was on its second step.
    state = State(flow=Flow.STEP, checklist="retired-guide", step=2)
    outcome = handle(state, Inbound(move), situation())
    assert outcome.replies == ["That guide is no longer available."]


# --- Language ---------------------------------------------------------------------------------


def test_lang_lists_languages_and_a_number_switches() -> None:
    outcomes = talk(["LANG", "2"])
    assert outcomes[0].replies == ["Reply a number:\n1 English\n2 Arabic\n3 Burmese"]
    assert outcomes[1].effects == [Effect(SET_LOCALE, "ar")]
    assert outcomes[1].replies[0].startswith(str(catalogue("ar").gettext("Language saved.")))


def test_lang_with_a_code_switches_at_once() -> None:
    assert handle(State(), Inbound("LANG my"), situation()).effects == [Effect(SET_LOCALE, "my")]


# --- Deleting ---------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_before_erasing() -> None:
    first, second = talk(["DELETE", "YES"])
    assert first.effects == []
    assert "Reply DELETE YES to confirm" in first.replies[0]
    assert second.effects == [Effect(DELETE_ME)]
    assert second.replies == ["Done. Nothing is kept."]


def test_delete_yes_in_one_message_erases() -> None:
    outcome = handle(State(), Inbound("delete yes"), situation())
    assert outcome.effects == [Effect(DELETE_ME)]


def test_delete_then_menu_keeps_everything() -> None:
    outcomes = talk(["DELETE", "MENU", "YES"])
    assert all(Effect(DELETE_ME) not in outcome.effects for outcome in outcomes)
    assert outcomes[1].replies == [MENU]


# --- Checking rumours -------------------------------------------------------------------------


def test_check_without_text_asks_for_it_then_checks_the_next_message() -> None:
    first, second = talk(["CHECK", "they say the water is poisoned"])
    assert first.replies == ["Send CHECK and the message you want checked."]
    assert first.effects == []
    assert second.effects == [Effect(CONTEXT_CHECKED, "water-rumour")]
    assert second.replies[0].startswith("What we know: Rumour: the water is poisoned\n")


def test_check_with_an_unknown_rumour_says_it_could_not_be_confirmed() -> None:
    outcome = handle(State(), Inbound("CHECK the moon is cheese"), situation())
    # The words go on to be counted for partners (`signals.counting`), never the message.
    assert outcome.effects == [
        Effect(CONTEXT_CHECKED, None),
        Effect(RUMOUR_WORDS, "the moon cheese"),
    ]
    assert outcome.replies[0].startswith("We could not confirm this.")


# --- Opting out -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State(), State(flow=Flow.STEP, checklist="phone", step=2)])
def test_stop_confirms_once_whatever_the_flow(state: State) -> None:
    outcome = handle(state, Inbound("STOP"), situation())
    assert outcome.effects == [Effect(OPT_OUT)]
    assert len(outcome.replies) == 1
    assert "Reply START" in outcome.replies[0]
    assert outcome.state == State()


@pytest.mark.parametrize("text", ["STOP", "1", "hi", "MENU", "NEXT", "CHECK it"])
def test_an_opted_out_person_gets_silence(text: str) -> None:
    outcome = handle(State(), Inbound(text), situation(opted_out=True))
    assert outcome.replies == []
    assert outcome.effects == []


def test_delete_yes_erases_even_an_opted_out_person() -> None:
    # HELP, answered while opted out, tells people DELETE erases what Refuge keeps; an
    # opted-out person must not have to opt back in (and get the menu) to be forgotten.
    outcome = handle(State(), Inbound("DELETE YES"), situation(opted_out=True))
    assert Effect(DELETE_ME) in outcome.effects


def test_help_is_answered_and_start_opts_back_in_while_opted_out() -> None:
    help_ = handle(State(), Inbound("HELP"), situation(opted_out=True))
    assert help_.effects == []
    assert help_.replies[0].startswith("Refuge gives verified help")
    start = handle(State(), Inbound("START"), situation(opted_out=True))
    assert start.effects == [Effect(OPT_IN)]
    assert start.replies == ["Welcome back.\n" + MENU]


@pytest.mark.parametrize(
    ("opt_out_type", "opted_out", "effects", "answered"),
    [
        ("STOP", False, [Effect(OPT_OUT)], True),
        ("stop", False, [Effect(OPT_OUT)], True),
        ("STOP", True, [], False),
        ("START", True, [Effect(OPT_IN)], True),
        ("HELP", True, [], True),
        ("BOGUS", True, [], False),
    ],
)
def test_the_providers_opt_out_type_wins_over_the_text(
    opt_out_type: str, opted_out: bool, effects: list[Effect], answered: bool
) -> None:
    outcome = handle(State(), Inbound("1", opt_out_type), situation(opted_out=opted_out))
    assert outcome.effects == effects
    assert bool(outcome.replies) is answered


# --- Fuzz -------------------------------------------------------------------------------------

SLUGS = st.sampled_from(["north", "south", "river-camp", "hill-camp", "retired-place"])
GUIDE_IDS = st.sampled_from(["phone", "sim", "retired-guide"])
PAGES = segments.paginate(
    segments.prepare((LONG_SUMMARY + "\n\n") * 3, segments.AccentPolicy.TRANSLITERATE),
    2,
    MORE_PROMPT,
)
SET_UP_STEPS = ["pin", "duress", "schedule", "grace", "name", "contacts", "later", "message"]
STATES = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 1, 1, 0, 2, 2])},  # version 1 as stored before, 2 as now
    optional={
        "flow": st.sampled_from(
            [None, "region", "category", "secure", "step", "lang", "check", "delete", "gone"]
            + ["checkin"] * 4
            + [f"checkin-{step}" for step in [*SET_UP_STEPS, "ngo"]]
        ),
        "ck": st.sampled_from([*SET_UP_STEPS, "ngo", "bogus"]),
        "then": st.sampled_from(["find", "news"]),
        "path": st.lists(SLUGS, max_size=3),
        "region": st.none() | SLUGS,
        "category": st.sampled_from([None, "medical", "shelter", "food", "retired-category"]),
        "checklist": GUIDE_IDS,
        "step": st.integers(-1, 9),
        "progress": st.dictionaries(GUIDE_IDS, st.integers(1, 5), max_size=2),
        "more": st.lists(st.sampled_from(PAGES), max_size=3),
    },
)
HOSTILE = "\u200f\u200e\u202e\u2066\u200b\u200c\u200d\ufeff\x00\x07\ud800\udfff\U0001f600 \n"
WORDS = st.sampled_from(
    [
        "1", "2", "3", "4", "5", "0", "11", "٣", "၂", "STOP", "start", "HELP", "MENU", "NEXT",
        "BACK", "MORE", "YES", "CHECK", "CHECK the water is poison", "DELETE", "DELETE YES",
        "LANG", "LANG 2", "FIND shelter", "توقف", "التالي", "ရပ်", "north province", "",
        # The check-in words and set-up answers (PIN 482193, duress PIN 111111 in FakeCheckins).
        "CHECKIN", "CHECKIN STATUS", "STATUS", "OK", "OK 482193", "OK 111111", "OK ٤٨٢١٩٣", "PAUSE",
        "PAUSE 482193", "PAUSE 111111", "RESUME", "STOP CHECKIN", "STOP CHECKIN 482193",
        "STOP CHECKIN 111111", "NOTE", "NOTE they took my phone", "REMOVE",
        "REMOVE Contact 1 482193",
        "REMOVE +447700900101 111111", "ADD", "ADD +44 7700 900123 Sara", "ADD +1 555 0100 Omar",
        "DONE", "NO", "482193", "111111", "12", "9:00", "25:00", "30", "1 2", "Amina",
    ]
)  # fmt: skip
TEXTS = st.one_of(
    WORDS,
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(HOSTILE + "aé1٣"), max_size=40),
    st.builds(lambda word, rest: f"{word} {rest}", WORDS, st.text(max_size=30)),
    st.builds(
        lambda char, n: char * n, st.sampled_from("A\u200f\x00\ud800ب"), st.integers(1, 10_240)
    ),
)


def planned(
    where: Situation,
    status: Status | None,
    contacts: int,
    partner: str | None,
    notes: bool,
    invited: bool,
) -> Situation:
    """The situation of a person whose check-in plan is in this state."""
    port = FakeCheckins(
        NOW, status, contacts=contacts, partner=partner, notes=notes, invited=invited
    )
    return replace(where, checkins=port)


SITUATIONS = st.builds(
    planned,
    st.builds(
        situation,
        locale=st.sampled_from(list(ALL_LOCALES)),
        region=st.none() | SLUGS,
        opted_out=st.booleans(),
    ),
    status=st.none() | st.sampled_from(Status),
    contacts=st.integers(0, 5),
    partner=st.none() | st.just("Safe Haven"),
    notes=st.booleans(),
    invited=st.booleans(),
)


def echoes(reply: str, text: str) -> bool:
    """True when a reply repeats something the person wrote outside GSM-7 (a contact's name)."""
    written = {ch for ch in clean_input(text) if segments.measure(ch).encoding != "GSM-7"}
    return any(ch in reply for ch in written)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    state=STATES,
    text=TEXTS,
    opt_out_type=st.none() | st.sampled_from(["STOP", "START", "HELP", "stop", "", "BOGUS"]),
    where=SITUATIONS,
)
def test_handle_never_raises_and_every_reply_fits_its_budget(
    state: dict[str, Any], text: str, opt_out_type: str | None, where: Situation
) -> None:
    before = copy.deepcopy(state)
    assert isinstance(where.checkins, FakeCheckins)
    invited = where.checkins.invited
    outcome = handle(State.from_stored(state), Inbound(text, opt_out_type), where)
    assert state == before, "handle() must not change the state it was given"
    switched = [effect.value for effect in outcome.effects if effect.kind == SET_LOCALE]
    answered_in = switched[-1] if switched else where.locale
    for reply in outcome.replies:
        assert reply.strip(), outcome
        measured = segments.measure(reply)
        assert measured.segments <= segments.default_budget(measured.encoding), (measured, reply)
        if answered_in == "en" and not echoes(reply, text):
            assert measured.encoding == "GSM-7", reply
    assert "482193" not in repr(outcome.effects), "a PIN never reaches a log through repr"
    if where.opted_out and outcome.replies:
        asked = (opt_out_type or "").upper() or None
        command = (
            Command[asked]
            if asked in {"STOP", "START", "HELP"}
            else recognise(clean_input(text), where.locale)
        )
        # A contact's YES or NO to an invitation is thanked, whoever sends it.
        answered = invited and recognise(clean_input(text), where.locale) in {
            Command.YES,
            Command.NO,
        }
        # The words of a running plan keep working after STOP (outcome.checkin marks them).
        assert command in {Command.START, Command.HELP} or answered or outcome.checkin, (
            text,
            outcome,
        )


def test_a_carrier_stop_is_an_opt_out_even_with_checkin_after_it() -> None:
    outcome = handle(State(), Inbound("STOP CHECKIN", opt_out_type="STOP"), situation())
    assert [effect.kind for effect in outcome.effects] == [OPT_OUT]
