"""Whose clock check-ins keep: the person's zone, from their number or their own answer.

Times are the person's: the zone of their region (`plans.zone_for`), else the zone of their
number's country when it has exactly one (`phonenumbers`, then CLDR's zones of the country
through Babel), else set-up asks, and this module reads the answer: a city or zone name, or a
country with one zone, in the person's language or in English ("Chicago", "Київ",
"America/Chicago", "Jordan"), or an offset from UTC ("+6", "UTC+3", "GMT-5:30"), kept as a
fixed offset ("UTC+06:00") that has no daylight saving. Pure: no database, no Flask.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from zoneinfo import available_timezones

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import get_timezone_location
from phonenumbers import timezone as number_zones

from server.checkins.schedule import FIXED_OFFSET

_UNKNOWN = "Etc/Unknown"
#: "+6", "UTC+3", "GMT -5", "+5:30", "utc+0545"; a sign is needed, so a time is not taken
#: for an offset.
_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?|(?:UTC|GMT)", re.I)
_MAX_EAST, _MAX_WEST = 14 * 60, 12 * 60


def zone_of_number(e164: str) -> str | None:
    """The one zone of a number (or of its country); None when there are several or none."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    found = [zone for zone in number_zones.time_zones_for_number(number) if zone != _UNKNOWN]
    if len(found) == 1:
        return _canonical(found[0])
    country = phonenumbers.region_code_for_number(number)
    if country is None and number.country_code is not None:
        country = phonenumbers.region_code_for_country_code(number.country_code)
    territory_zones: Mapping[str, list[str]] = get_global("territory_zones")
    zones = territory_zones.get(country or "", [])
    return _canonical(zones[0]) if len(zones) == 1 else None


def _canonical(zone: str) -> str:
    aliases: Mapping[str, str] = get_global("zone_aliases")
    return str(aliases.get(zone, zone))


def parse_zone(text: str, locale: str) -> str | None:
    """The zone a person named, or the fixed offset they gave; None when neither."""
    written = " ".join(text.split())
    offset = _OFFSET.fullmatch(written)
    if offset is not None:
        return _fixed(offset[1] or "+", int(offset[2] or 0), int(offset[3] or 0))
    return _names(locale).get(_folded(written)) or _names("en").get(_folded(written))


def _fixed(sign: str, hours: int, minutes: int) -> str | None:
    total = hours * 60 + minutes
    if minutes >= 60 or total > (_MAX_EAST if sign == "+" else _MAX_WEST):
        return None
    if total == 0:
        return "UTC"
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _folded(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").casefold().split())


@functools.lru_cache(maxsize=16)
def _names(locale: str) -> dict[str, str]:
    """Every zone by its identifier, its city and the city's name in a language; a name that
    two zones share is left out rather than guessed."""
    found: dict[str, set[str]] = {}
    for zone in available_timezones():
        canonical = _canonical(zone)
        for name in (zone, zone.rsplit("/", 1)[-1], _city(canonical, locale)):
            found.setdefault(_folded(name), set()).add(canonical)
    territory_zones: Mapping[str, list[str]] = get_global("territory_zones")
    for code, name in _territories(locale).items():
        if len(territory_zones.get(code, [])) == 1:  # a country with one zone names it
            found.setdefault(_folded(name), set()).add(_canonical(territory_zones[code][0]))
    return {name: next(iter(zones)) for name, zones in found.items() if len(zones) == 1}


def _territories(locale: str) -> Mapping[str, str]:
    try:
        names: Mapping[str, str] = Locale.parse(locale).territories
    except (ValueError, UnknownLocaleError):
        return {}
    return names


def _city(zone: str, locale: str) -> str:
    try:
        return str(get_timezone_location(zone, locale=locale, return_city=True))
    except (LookupError, ValueError, UnknownLocaleError):
        return zone


def zone_label(zone: str, locale: str) -> str:
    """A zone as the person reads it, in their language: "Kyiv Time", "час: Київ", "UTC+06:30"."""
    if zone == "UTC" or FIXED_OFFSET.fullmatch(zone):
        return zone
    try:
        region_format = str(Locale.parse(locale).zone_formats["region"])
    except (LookupError, ValueError, UnknownLocaleError):
        region_format = "%s"
    return region_format % _city(zone, locale)
