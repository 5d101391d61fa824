"""What a record will look like once live: its web text, sanitised exactly as published, and
the SMS the conversation would send, with the segments it costs.

Both come from the code that publishes: `server.content.markup` for the web and
`server.conversation.items` (with the library's plain-text rule and `server.segments`) for SMS,
so a preview cannot drift from what people receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast

from markupsafe import Markup

from server import segments
from server.content import markup
from server.content.kinds import BULLETIN, CHECKLIST, RESOURCE
from server.content.records import Canonical
from server.conversation import items
from server.conversation.engine import Situation
from server.conversation.library import sms_text
from server.conversation.port import BulletinLine, ContentPort, ContextLine, Hours, ResourceLine


@dataclass(frozen=True)
class Part:
    """One piece of a record as published: a heading, the web text, the SMS and its cost."""

    heading: str
    web: Markup
    sms: str | None
    encoding: str = ""
    segments: int = 0


def _situation(form: Canonical, now: datetime) -> Situation:
    # Rendering reads no content: the port is never called.
    return Situation(
        locale=form.get("locale") or "en",
        region=None,
        opted_out=False,
        now=now,
        content=cast(ContentPort, None),
    )


def _part(heading: str, web_source: str, sms: str | None) -> Part:
    web = Markup(markup.render(web_source))  # noqa: S704 (sanitised by markup.render)
    if sms is None:
        return Part(heading, web, None)
    prepared = segments.prepare(sms, segments.AccentPolicy.TRANSLITERATE)
    cost = segments.measure(prepared)
    return Part(heading, web, prepared, cost.encoding, cost.segments)


def _bulletin(form: Canonical, situation: Situation) -> list[Part]:
    context = form["kind"] == "context"
    text = sms_text(form["body"], verdict_first=context)
    issued: date = form["issued_at"].date()
    if context:
        note = ContextLine(form["id"], form["title"], text, form["source_name"], issued, 1.0)
        sms = items.context_note(situation, note)
    else:
        expires = form["expires_at"].date() if form.get("expires_at") else None
        line = BulletinLine(
            form["kind"], form["title"], text, form["source_name"], issued, expires_on=expires
        )
        sms = items.bulletin(situation, line)
    return [_part(form["title"], form["body"], sms)]


def _phone(form: Canonical, kind: str) -> str | None:
    return next((p["number"] for p in form["phones"] if p["kind"] == kind), None)


def _hours(schedule: dict[str, Any]) -> Hours:
    def clock(value: str | None) -> time | None:
        return time.fromisoformat(value) if value else None

    days = tuple(schedule["byday"].split(","))
    return Hours(days, clock(schedule["opens_at"]), clock(schedule["closes_at"]))


def _resource(form: Canonical, situation: Situation) -> list[Part]:
    call_first = next(
        (loc["call_first_phone"] for loc in form["locations"] if loc.get("call_first_phone")),
        None,
    )
    whatsapp = _phone(form, "whatsapp")
    line = ResourceLine(
        name=form["name"],
        phone=call_first or _phone(form, "voice") or whatsapp,
        whatsapp=whatsapp,
        verified_on=form["verified_on"],
        stale=False,
        call_first=call_first is not None,
        verified_by=form["verified_by"],
        closed=form["status"] == "temporarily closed",
        status_note=form.get("status_note") or "",
        hours=tuple(_hours(each) for each in form["schedules"]),
        languages=tuple(form["languages"]),
    )
    return [_part(form["name"], form["description"], items.resource(situation, line))]


def parts(kind_name: str, form: Canonical, now: datetime) -> list[Part]:
    """The preview of a canonical form: one part, or one per checklist step."""
    situation = _situation(form, now)
    if kind_name == BULLETIN.name:
        return _bulletin(form, situation)
    if kind_name == RESOURCE.name:
        return _resource(form, situation)
    if kind_name == CHECKLIST.name:
        summary = _part(form["title"], form["summary"], None)
        return [
            summary,
            *(_part(step["title"], step["web"], step["sms"]) for step in form["steps"]),
        ]
    return [_part(form["name"], form["description"], None)]
