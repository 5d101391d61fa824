"""When check-ins fall due: every N hours, or daily at a local time in the person's time zone.

Pure functions of UTC instants. Daily times are wall-clock times in an IANA zone, computed
with `zoneinfo`, so 09:00 stays 09:00 where the person is across daylight-saving changes. A
local time that does not exist on a spring-forward day (02:30 when clocks jump from 02:00 to
03:00) falls due at the same distance past the jump (03:30); one that happens twice on an
autumn day falls due the first time.

A schedule is a property of the plan, not of the last check-in: a check-in satisfies at most
the next due time, so checking in often never pushes the next one further away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MIN_HOURS = 1
MAX_HOURS = 168
#: How long before the due time a reminder goes out (at most half the interval).
REMINDER_LEAD = timedelta(hours=1)


@dataclass(frozen=True)
class Schedule:
    """Every `hours` hours, or (when `daily_at` is set) every day at that local time in `zone`."""

    hours: int = 24
    daily_at: str | None = None  # "HH:MM"
    zone: str = "UTC"

    def next_due(self, after: datetime) -> datetime:
        """The first due time strictly after `after` (an aware instant)."""
        if self.daily_at is None:
            return (after + timedelta(hours=self.hours)).astimezone(UTC)
        zone = zone_of(self.zone)
        at = parse_time(self.daily_at)
        assert at is not None
        local_day = after.astimezone(zone).date()
        for offset in range(3):
            candidate = datetime.combine(local_day + timedelta(days=offset), at, tzinfo=zone)
            instant = candidate.astimezone(UTC)
            if instant > after:
                return instant
        raise AssertionError("a daily time always falls within three days")  # pragma: no cover

    def confirmed(self, due: datetime | None, now: datetime) -> datetime:
        """The next due time after a check-in at `now`, while the current one is `due`.

        A daily time stays that time: a check-in satisfies the coming one only on its own local
        day (or after its reminder), so one before Monday 09:00 makes Tuesday 09:00 next and
        any number after it leave Tuesday 09:00. A period of hours counts from the due time the
        check-in satisfied (a late check-in does not shift the series), never more than one
        period ahead of now.
        """
        period = timedelta(hours=self.hours)
        if self.daily_at is None:
            if due is None or due > now:
                return (now + period).astimezone(UTC)
            missed = (now - due) // period  # whole periods since the due time, all overdue
            return (due + (missed + 1) * period).astimezone(UTC)
        coming = self.next_due(now)
        zone = zone_of(self.zone)
        same_day = coming.astimezone(zone).date() == now.astimezone(zone).date()
        if same_day or now >= self.reminder_at(coming):
            return self.next_due(coming)
        return coming

    def reminder_at(self, due: datetime) -> datetime:
        """When to remind the person before a due time."""
        lead = min(REMINDER_LEAD, timedelta(hours=self.hours) / 2)
        return due - lead


def parse_time(text: str) -> time | None:
    """A 24-hour local time written "9", "09", "9:30", "0930" or "21.30"; None otherwise."""
    cleaned = text.strip().replace(".", ":").replace("h", ":").replace("H", ":")
    if ":" in cleaned:
        hour_text, _, minute_text = cleaned.partition(":")
    elif len(cleaned) in (3, 4):
        hour_text, minute_text = cleaned[:-2], cleaned[-2:]
    else:
        hour_text, minute_text = cleaned, "0"
    if not (hour_text.isascii() and hour_text.isdigit()):
        return None
    if not (minute_text.isascii() and (minute_text.isdigit() or minute_text == "")):
        return None
    hour, minute = int(hour_text), int(minute_text or "0")
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


#: A fixed offset as stored in a plan: "UTC+05:30" (what a person answered, no daylight saving).
FIXED_OFFSET = re.compile(r"UTC([+-])(\d{2}):(\d{2})")


def zone_of(name: str) -> tzinfo:
    """The zone a plan names (an IANA zone or a fixed offset), UTC when the name is unknown."""
    fixed = FIXED_OFFSET.fullmatch(name)
    if fixed is not None:
        sign = -1 if fixed[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(fixed[2]), minutes=int(fixed[3])))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
