"""What the signals page and its JSON export say: one presentation of a `signals.Report`.

The page and the export are made from the same `present` result, so they cannot differ:
the page renders it, the export serialises it. Labels are translated here, where the
request's language is known; the report itself holds only keys.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server.content.labels import CATEGORY_NAMES
from server.signals import counting, report
from server.signals.charts import Bar, bar_chart
from server.signals.suppression import THRESHOLD, Shown, Withheld

TITLES = {
    report.REQUESTS: _l("Requests by category"),
    report.RUMOURS: _l("Rumour checks, by the context note that answered them"),
    report.WORDS: _l("Words in rumour checks no note answered (seen from 10 numbers or more)"),
    report.OPT_OUTS: _l("Opt-outs (STOP)"),
    report.FAILURES: _l("Messages not delivered, by reason"),
    report.STALE: _l("Resources past their review date"),
}
REASONS = {
    "refused": _l("Refused by the provider"),
    "undelivered": _l("Not delivered to the phone"),
    "expired": _l("Expired before it could be sent"),
    "capped": _l("Over a daily sending limit"),
    "country": _l("Number outside the served countries"),
    "tampered": _l("Record changed outside Refuge"),
}


def category_label(key: str) -> str:
    """A request row's name: a category, every category, or words searched for."""
    if key == counting.EVERYTHING:
        return str(_("Every category"))
    if key == counting.SEARCH:
        return str(_("Searched in their own words"))
    names = {category.value: name for category, name in CATEGORY_NAMES.items()}
    return str(_(names[key])) if key in names else key


def place_name(place: report.Place) -> str:
    """A region's name; counts of people who chose no region have a name of their own."""
    return place.name if place.slug != report.UNPLACED else str(_("No region chosen"))


def cell(shown: Shown) -> dict[str, Any]:
    """One count as the export writes it: `count`, or `withheld` and why."""
    if shown.value is not None:
        return {"count": shown.value}
    assert shown.withheld is not None
    return {"withheld": shown.withheld.value}


def cell_text(value: dict[str, Any]) -> str:
    """One count as the page writes it."""
    if "count" in value:
        return str(value["count"])
    if value["withheld"] == Withheld.FEWER.value:
        return str(_("fewer than %(num)d", num=THRESHOLD))
    # Translators: a count hidden because showing it would let a smaller count be worked out.
    return str(_("withheld"))


def _row_label(signal: str, key: str, titles: dict[str, str]) -> str:
    if signal == report.REQUESTS:
        return category_label(key)
    if signal == report.RUMOURS:
        if key == counting.UNMATCHED:
            return str(_("No note matched"))
        return titles.get(key, key)
    if signal == report.FAILURES:
        return str(REASONS.get(key, key))
    if signal == report.WORDS:
        return key
    return str(TITLES[signal])


def present(found: report.Report, filters: report.Filters) -> dict[str, Any]:
    """The report as data: what the export writes and the page shows."""
    return {
        "threshold": THRESHOLD,
        "weeks": [week.isoformat() for week in found.weeks],
        "filters": {
            "week": filters.week.isoformat() if filters.week else None,
            "region": filters.region,
            "category": filters.category,
        },
        "regions": [
            {
                "region": place.slug,
                "name": place_name(place),
                "signals": [
                    {
                        "signal": table.signal,
                        "title": str(TITLES[table.signal]),
                        "rows": [
                            {
                                "key": row.key,
                                "label": _row_label(table.signal, row.key, found.note_titles),
                                "counts": [cell(shown) for shown in row.cells],
                            }
                            for row in table.rows
                        ],
                        "total": (
                            [cell(shown) for shown in table.total.cells]
                            if table.total is not None
                            else None
                        ),
                    }
                    for table in place.tables
                ],
            }
            for place in found.places
        ],
    }


def chart(ident: str, table: dict[str, Any], weeks: list[str], *, rtl: bool) -> str | None:
    """A chart of a table's weekly totals (or of its one row); None for word lists."""
    if table["signal"] == report.WORDS:
        return None
    series = table["total"] if table["total"] is not None else table["rows"][0]["counts"]
    bars = [
        Bar(_week_short(week), value.get("count"))
        for week, value in zip(weeks, series, strict=True)
    ]
    described = "; ".join(
        f"{week_label(week)}: {cell_text(value)}" for week, value in zip(weeks, series, strict=True)
    )
    # Translators: the spoken description of a chart; %(weeks)s lists each week and its count.
    description = _("Each week's total, oldest first: %(weeks)s", weeks=described)
    return bar_chart(ident, table["title"], description, bars, rtl=rtl)


def week_label(iso: str) -> str:
    """A week as the page names it: the day it begins."""
    return str(_("Week of %(day)s", day=format_date(date.fromisoformat(iso), "medium")))


def _week_short(iso: str) -> str:
    return iso[5:]  # MM-DD: fits under a bar in every script
