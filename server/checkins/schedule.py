"""When check-ins fall due: every N hours, or daily at a local time in the person's time zone.

Pure functions of UTC instants. Daily times are wall-clock times in an IANA zone, computed
with `zoneinfo`, so 09:00 stays 09:00 where the person is across daylight-saving changes. A
local time that does not exist on a spring-forward day (02:30 when clocks jump from 02:00 to
03:00) falls due at the same distance past the jump (03:30); one that happens twice on an
autumn day falls due the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
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
        """The next due time after a check-in at `now` that confirms the period ending `due`.

        An early check-in confirms the current period, so the next one ends a period later;
        a late one starts counting again from now.
        """
        if due is None or due <= now:
            return self.next_due(now)
        if self.daily_at is None:
            return self.next_due(now)
        return self.next_due(due)

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


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone of a region, UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
