"""GET /portal/signals and /portal/signals.json: what people ask for, in the account's regions.

Both answer the same filters (`week`, `region`, `category`) with the same numbers: the page
renders `signal_labels.present`, the export serialises it. A filter value that is not one of
the choices (a region outside the account's scope included) answers 400 with the reason,
the same for a region that does not exist, so the answer says nothing about other regions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Response, g, jsonify, render_template, request
from flask_babel import gettext as _

from server.db import request_session
from server.models.staff import Permission
from server.portal import signal_labels
from server.portal.access import account, rule, scope
from server.portal.session import blueprint
from server.signals import report


class FilterRefused(ValueError):
    """A filter value that is none of the choices offered."""


def _filters(weeks: tuple[date, ...], regions: list[str]) -> report.Filters:
    """The request's filters, each checked against the choices offered."""
    raw_week = request.args.get("week") or None
    raw_region = request.args.get("region")
    raw_category = request.args.get("category") or None
    week = None
    if raw_week is not None:
        try:
            week = date.fromisoformat(raw_week)
        except ValueError:
            week = None
        if week not in weeks:
            raise FilterRefused(_("That week is not one of the weeks shown."))
    if raw_region is not None and raw_region != "" and raw_region not in regions:
        raise FilterRefused(_("That region is not one of your regions."))
    if raw_category is not None and raw_category not in report.REQUEST_KEYS:
        raise FilterRefused(_("That category is not one of the categories shown."))
    return report.Filters(week, raw_region or None, raw_category)


def _report() -> tuple[report.Report, report.Filters, dict[str, Any]]:
    """The account's report, narrowed by the request's filters (FilterRefused if invalid)."""
    session = request_session()
    found_scope = scope()
    region_ids = None if found_scope.everywhere else found_scope.region_ids
    today = datetime.now(UTC).date()
    whole = report.build(session, region_ids, today)
    filters = _filters(whole.weeks, [place.slug for place in whole.places])
    narrowed = report.narrow(whole, filters)
    choices = {
        "weeks": [
            (week.isoformat(), signal_labels.week_label(week.isoformat())) for week in whole.weeks
        ],
        "regions": [(place.slug, signal_labels.place_name(place)) for place in whole.places],
        "categories": [(key, signal_labels.category_label(key)) for key in report.REQUEST_KEYS],
    }
    return narrowed, filters, choices


@blueprint.get("/signals")
@rule(Permission.READ_SIGNALS)
def signals() -> tuple[str, int] | str:
    """The signals page: a chart and a table per signal and region, every count published."""
    try:
        found, filters, choices = _report()
    except FilterRefused as refused:
        return render_template("portal/signals.html", user=account(), error=str(refused)), 400
    data = signal_labels.present(found, filters)
    rtl = g.get("text_direction") == "rtl"
    charts = {
        (place["region"], table["signal"]): signal_labels.chart(
            f"chart-{n}-{k}", table, data["weeks"], rtl=rtl
        )
        for n, place in enumerate(data["regions"])
        for k, table in enumerate(place["signals"])
    }
    return render_template(
        "portal/signals.html",
        user=account(),
        data=data,
        charts=charts,
        choices=choices,
        cell_text=signal_labels.cell_text,
        week_label=signal_labels.week_label,
    )


@blueprint.get("/signals.json")
@rule(Permission.READ_SIGNALS)
def signals_json() -> tuple[Response, int] | Response:
    """The same numbers as the page, as JSON."""
    try:
        found, filters, _choices = _report()
    except FilterRefused as refused:
        return jsonify({"error": str(refused)}), 400
    return jsonify(signal_labels.present(found, filters))
