"""/portal/signals and its JSON export: what partners see of what people ask, in their
regions only, never a count under ten, never a message, and nothing found by subtraction."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from server.models.staff import Role
from server.signals import counting, report
from server.signals.suppression import THRESHOLD, Shown, Withheld, publish
from tests.checkin_helpers import Clock, Phone, register
from tests.portal_helpers import ERROR, add_account, add_ngo, log_in
from tests.signals_helpers import (
    CHILD,
    ELSEWHERE,
    HOME,
    ODESA_COUNT,
    ODESA_WORD,
    World,
    cells_of,
    make_world,
    signed_in,
)
from tests.sms_helpers import MEDICAL, handset_number

FEWER = f"fewer than {THRESHOLD}"
WITHHELD = "withheld"


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)


def _filter_combinations(world: World) -> list[dict[str, str]]:
    """Every week (and none) x every region (and none) x a spread of categories (and none)."""
    weeks = ["", *(week.isoformat() for week in world.weeks[::3])]
    regions = ["", HOME, CHILD]
    categories = ["", "medical", "shelter", "all", "search"]
    return [
        {
            key: value
            for key, value in zip(("week", "region", "category"), combo, strict=True)
            if value
        }
        for combo in itertools.product(weeks, regions, categories)
    ]


def _json(client: Any, query: dict[str, str]) -> dict[str, Any]:
    response = client.get("/portal/signals.json", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    found: dict[str, Any] = response.get_json()
    return found


def _as_text(value: dict[str, Any]) -> str:
    if "count" in value:
        return str(value["count"])
    return FEWER if value["withheld"] == Withheld.FEWER.value else WITHHELD


def test_the_page_never_shows_a_count_under_ten_nor_a_message_whatever_the_filters(
    world: World,
) -> None:
    client = signed_in(world)
    for query in _filter_combinations(world):
        page = client.get("/portal/signals", query_string=query).get_data(as_text=True)
        shown = cells_of(page).numbers
        assert shown, query
        for text in shown:
            assert text in {FEWER, WITHHELD} or int(text) >= THRESHOLD, (query, text)
        assert "zebracanary" not in page  # a word fewer than ten numbers sent
        assert "+44" not in page


def test_the_json_export_has_the_same_numbers_as_the_page(world: World) -> None:
    client = signed_in(world)
    for query in _filter_combinations(world)[::4]:
        page = cells_of(client.get("/portal/signals", query_string=query).get_data(as_text=True))
        exported = _json(client, query)
        from_json = {
            region["name"]: {
                table["title"]: {
                    **{row["label"]: [_as_text(v) for v in row["counts"]] for row in table["rows"]},
                    **({"Total": [_as_text(v) for v in table["total"]]} if table["total"] else {}),
                }
                for table in region["signals"]
            }
            for region in exported["regions"]
        }
        on_page = {
            region: {
                title: {label: cells for label, cells in rows.items() if cells}
                for title, rows in tables.items()
            }
            for region, tables in page.tables.items()
        }
        for tables in from_json.values():  # a table with no rows says so instead
            for title in [t for t, rows in tables.items() if not rows]:
                del tables[title]
        for tables in on_page.values():
            for title in [t for t, rows in tables.items() if not rows]:
                del tables[title]
        assert on_page == from_json, query


def test_complementary_cells_hold_across_every_filter_combination(world: World) -> None:
    """Whatever views a partner combines, every cell is the same in each, and in every group
    the withheld parts sum (total minus the shown parts) to zero or to ten and more."""
    client = signed_in(world)
    seen: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
    for query in _filter_combinations(world):
        exported = _json(client, query)
        for region in exported["regions"]:
            for table in region["signals"]:
                for n, week in enumerate(exported["weeks"]):
                    keys = [("row", row["key"], row["counts"][n]) for row in table["rows"]]
                    if table["total"] is not None:
                        keys.append(("total", "", table["total"][n]))
                    for part, key, value in keys:
                        where = (region["region"], table["signal"], week, part, key)
                        assert seen.setdefault(where, value) == value, (query, where)
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (region, signal, week, part, key), value in seen.items():
        groups.setdefault((region, signal, week), {})[f"{part}:{key}"] = value
    checked = 0
    for where, group in groups.items():
        total = group.get("total:")
        if total is None or "count" not in total:
            continue
        signal = where[1]
        if signal == report.REQUESTS:
            parts = {k: v for k, v in group.items() if k.startswith("row:")}
            if len(parts) < len(report.REQUEST_KEYS):
                continue  # only seen through a category filter: every part is needed to subtract
        else:
            parts = {k: v for k, v in group.items() if k.startswith("row:")}
        subtracted = total["count"] - sum(v["count"] for v in parts.values() if "count" in v)
        withheld = [v for v in parts.values() if "withheld" in v]
        assert subtracted == 0 or subtracted >= THRESHOLD, (where, group)
        assert len(withheld) != 1 or subtracted == 0, (where, group)
        # Something is withheld: one of them protects (and is ten or more), so none is pinned.
        protecting = [v for v in withheld if v["withheld"] == Withheld.PROTECTING.value]
        assert subtracted == 0 or protecting, (where, group)
        checked += 1
    assert checked > 30


def test_another_regions_numbers_and_words_never_appear(world: World) -> None:
    client = signed_in(world)
    for query in ({}, {"category": "shelter"}, {"region": HOME}):
        page = client.get("/portal/signals", query_string=query).get_data(as_text=True)
        exported = json.dumps(_json(client, query))
        for text in (page, exported):
            assert str(ODESA_COUNT) not in text
            assert ODESA_WORD not in text
            assert "Odesa" not in text
    asked = client.get("/portal/signals", query_string={"region": ELSEWHERE})
    unknown = client.get("/portal/signals", query_string={"region": "atlantis"})
    assert asked.status_code == unknown.status_code == 400
    for answer in (asked, unknown):  # the same answer, whether the region exists or not
        errors = ERROR.findall(answer.get_data(as_text=True))
        assert errors == ["That region is not one of your regions."]
    refused = client.get("/portal/signals.json", query_string={"region": ELSEWHERE})
    assert refused.status_code == 400
    assert refused.get_json() == {"error": "That region is not one of your regions."}


def test_an_odesa_account_sees_its_own_numbers(world: World) -> None:
    odesa = add_account(world.app, "odesa-editor", ELSEWHERE, Role.EDITOR)
    client = signed_in(world, odesa)
    page = client.get("/portal/signals").get_data(as_text=True)
    assert str(ODESA_COUNT) in page
    assert ODESA_WORD in page
    assert "Kharkiv" not in page


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"week": "2001-01-01"}, "That week is not one of the weeks shown."),
        ({"week": "last tuesday"}, "That week is not one of the weeks shown."),
        ({"category": "weapons"}, "That category is not one of the categories shown."),
    ],
)
def test_a_filter_that_is_no_choice_gets_a_clear_400(
    world: World, query: dict[str, str], reason: str
) -> None:
    client = signed_in(world)
    response = client.get("/portal/signals", query_string=query)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)


def test_each_chart_is_an_image_with_a_title_a_description_and_a_table_beside(
    world: World,
) -> None:
    page = signed_in(world).get("/portal/signals").get_data(as_text=True)
    assert "<script" not in page
    assert page.count('<svg class="chart"') == page.count('role="img"') > 0
    assert page.count("<title id=") == page.count("<desc id=") == page.count('<svg class="chart"')


def test_the_signals_section_is_linked_from_the_portal_home(world: World) -> None:
    home = signed_in(world).get("/portal/")  # a caseworker: notes and signals
    assert 'href="/portal/signals"' in home.get_data(as_text=True)
    editor = add_account(world.app, "kharkiv-editor", HOME, Role.EDITOR)
    editors = signed_in(world, editor).get("/portal/").get_data(as_text=True)
    assert 'href="/portal/signals"' in editors  # an editor's start lists signals too


# --- The rule itself, on generated groups -----------------------------------------------------


def _range(target: str, published: dict[str, Shown], total: int) -> tuple[int, int]:
    """What a viewer can work out of one withheld part: its least and greatest possible value."""
    shown = sum(value.value for value in published.values() if value.value is not None)
    left = total - shown
    bounds = {
        key: (0, THRESHOLD - 1) if value.withheld is Withheld.FEWER else (THRESHOLD, left)
        for key, value in published.items()
        if value.value is None
    }
    others = [bound for key, bound in bounds.items() if key != target]
    low = max(bounds[target][0], left - sum(high for _low, high in others))
    high = min(bounds[target][1], left - sum(low for low, _high in others))
    return low, high


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 60), min_size=1))
def test_no_withheld_count_under_ten_can_be_worked_out_of_a_group(parts: dict[str, int]) -> None:
    group = publish(parts)
    total = sum(parts.values())
    if group.total.value is None:  # nothing to subtract from
        assert all(value.value is None for value in group.parts.values())
        assert total < THRESHOLD or group.total.withheld is Withheld.PROTECTING
        return
    assert group.total.value == total
    for key, value in group.parts.items():
        if value.value is not None:
            assert value.value == parts[key] >= THRESHOLD
            continue
        low, high = _range(key, group.parts, total)
        assert low <= parts[key] <= high
        # A small count that is not zero is never pinned down by subtraction.
        if 0 < parts[key] < THRESHOLD:
            assert low < high, (parts, key)


def test_what_people_texted_last_week_shows_as_counts_and_common_words_only(app: Flask) -> None:
    """End to end through the real conversation, a week ago: twelve people forward the same
    rumour and ask for medical care; three forward a private one. The page shows the counts
    and the rumour's words, never the private words, a message or a number."""
    add_ngo(app, HOME, "Kharkiv Aid")
    caseworker = add_account(app, "kharkiv-caseworker", HOME, Role.CASEWORKER)
    clock = Clock(datetime.now(UTC) - timedelta(weeks=1))
    rumour = "CHECK the dam upstream will burst tonight, call 07700900777"
    private = "CHECK secret meeting at Olena's flat on Sumska"
    for n in range(12):
        number = handset_number(100 + n)
        register(app, number, "en", HOME)
        phone = Phone(app, number, clock)
        phone.send(rumour)
        phone.send("FIND")
        phone.send(str(MEDICAL))
        if n < 3:
            phone.send(private)
    client = app.test_client()
    log_in(client, caseworker.username, caseworker.password, caseworker.code())
    week = counting.week_of(clock.now.date()).isoformat()
    page = client.get("/portal/signals", query_string={"week": week}).get_data(as_text=True)
    tables = cells_of(page).tables["Kharkiv"]
    assert tables["Requests by category"]["Medical care"] == ["12"]
    words = tables["Words in rumour checks no note answered (seen from 10 numbers or more)"]
    assert words["burst"] == ["12"]
    assert words["upstream"] == ["12"]
    for kept_out in ("secret", "meeting", "olena", "sumska", "07700900777", "burst tonight"):
        assert kept_out not in page.lower()
    assert tables["Rumour checks, by the context note that answered them"]["Total"] == ["15"]
