"""Which Refuge region an imported HSDS service belongs to, decided per service from its places.

An HSDS file covers many places; one `--region` for all of it moved services to the wrong
country. So each service's region is looked for in this order, the first that answers wins:

1. the operator's region map (`--region-map`), by HSDS location id;
2. the region map by an address's locality (`city`), `region` or `state_province`, or by a
   service area's name;
3. a region whose name or slug is a service area's name (Refuge's own export writes the
   resource's region there, so a round trip lands where it left);
4. a region whose name or slug is an address's locality, then its region or state/province
   (in the address's country, when it names one);
5. a country region with the address's country code;
6. the import's default (`--region`), if any.

Names are compared folded (case, accents and punctuation ignored, `text.fold`). A service that
is already in Refuge keeps its region when that region is among the matches, so re-importing an
export moves nothing. The map file is YAML (`key: region-slug`) or CSV (two columns, `key` and
`region`), documented in docs/content-format.md.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content.hsds import HsdsError, Record
from server.content.text import fold
from server.models.content import Region, RegionKind

#: Address fields naming an area, most local first.
AREA_FIELDS = ("city", "region", "state_province")
#: The largest map file read: a map names places, not a directory's worth of records.
MAX_MAP_BYTES = 1024 * 1024


def _key(text: str) -> str:
    return " ".join(fold(text).split())


def read_region_map(path: Path) -> dict[str, str]:
    """A region map file (YAML mapping or two-column CSV) as folded key -> region slug."""
    try:
        if path.stat().st_size > MAX_MAP_BYTES:
            raise HsdsError(f"{path}: a region map may be at most {MAX_MAP_BYTES} bytes")
        source = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise HsdsError(f"{path}: is not UTF-8 text") from None
    except OSError as error:
        raise HsdsError(f"{path}: cannot be read: {error.strerror}") from None
    pairs = _csv_pairs(path, source) if path.suffix.lower() == ".csv" else _yaml_pairs(path, source)
    found: dict[str, str] = {}
    for where, key, slug in pairs:
        if not key.strip() or not slug.strip():
            raise HsdsError(f"{path}: {where}: needs a place and a region slug")
        folded = _key(key)
        if found.get(folded, slug.strip()) != slug.strip():
            raise HsdsError(f"{path}: {where}: {key!r} is mapped to two regions")
        found[folded] = slug.strip()
    return found


def _yaml_pairs(path: Path, source: str) -> list[tuple[str, str, str]]:
    try:
        data: Any = yaml.safe_load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise HsdsError(f"{path}: {line}not YAML") from None
    if data is None:
        return []
    if not isinstance(data, dict) or not all(
        isinstance(key, str | int) and isinstance(value, str) for key, value in data.items()
    ):
        raise HsdsError(f"{path}: must map each place (text) to a region slug (text)")
    return [(f"entry {key!r}", str(key), value) for key, value in data.items()]


def _csv_pairs(path: Path, source: str) -> list[tuple[str, str, str]]:
    rows = list(csv.reader(source.splitlines()))
    if not rows or [cell.strip().lower() for cell in rows[0]] != ["key", "region"]:
        raise HsdsError(f"{path}: line 1: the header must be 'key,region'")
    pairs = []
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise HsdsError(f"{path}: line {number}: {len(row)} fields where the header has 2")
        pairs.append((f"line {number}", row[0], row[1]))
    return pairs


@dataclass
class RegionChooser:
    """Chooses each service's region from its places, the map and the default."""

    session: Session
    default: Region | None = None
    region_map: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        query = select(Region).where(Region.retired.is_(False)).order_by(Region.id)
        self.regions = list(self.session.scalars(query))
        by_slug = {region.slug: region for region in self.regions}
        unknown = sorted(set(self.region_map.values()) - by_slug.keys())
        if unknown:
            raise HsdsError(f"the region map names no region {', '.join(unknown)}")
        self.mapped = {key: by_slug[slug] for key, slug in self.region_map.items()}
        self.by_name: dict[str, list[Region]] = {}
        for region in self.regions:
            for name in {_key(region.name), _key(region.slug)}:
                self.by_name.setdefault(name, []).append(region)

    def candidates(self, service: Record) -> list[Region]:
        """Every region the service's places point to, best first (see the module's order)."""
        places = _places(service)
        areas = [str(area.get("name") or "") for area in _list(service.get("service_areas"))]
        ranked: list[Region] = []
        for location_id, _address in places:
            ranked += self._mapped([location_id])
        for _location_id, address in places:
            ranked += self._mapped(str(address.get(name) or "") for name in AREA_FIELDS)
        ranked += self._mapped(areas)
        ranked += self._named(areas, None)
        for name in AREA_FIELDS:
            for _location_id, address in places:
                ranked += self._named([str(address.get(name) or "")], address.get("country"))
        for _location_id, address in places:
            country = str(address.get("country") or "").upper()
            ranked += [
                region
                for region in self.regions
                if region.kind is RegionKind.COUNTRY and region.country_code == country
            ]
        return list(dict.fromkeys(ranked))

    def choose(self, service: Record, current: Region | None) -> Region | None:
        """The service's region: the current one when it still matches, else the best match."""
        found = self.candidates(service)
        if current is not None and (current in found or not found):
            return current
        return found[0] if found else self.default

    def _mapped(self, keys: Iterable[str]) -> list[Region]:
        return [self.mapped[k] for key in keys if (k := _key(key)) and k in self.mapped]

    def _named(self, names: Iterable[str], country: Any) -> list[Region]:
        found: list[Region] = []
        code = str(country or "").upper()
        for name in names:
            regions = self.by_name.get(_key(name), []) if name.strip() else []
            # An address in another country is another place of the same name.
            found += [region for region in regions if not code or region.country_code == code]
        return found


def _list(value: Any) -> list[Record]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _places(service: Record) -> list[tuple[str, Record]]:
    """(location id, physical address) of each of a service's locations, in order."""
    places = []
    for sal in _list(service.get("service_at_locations")):
        given = sal.get("location")
        location: Record = given if isinstance(given, dict) else {}
        location_id = str(location.get("id") or sal.get("location_id") or "")
        addresses = _list(location.get("addresses"))
        physical = [a for a in addresses if (a.get("address_type") or "physical") == "physical"]
        places.append((location_id, physical[0] if physical else {}))
    return places
