"""HSDS import places each service in the region its places name (a map file, the address's
area, the service area), with --region only for what matches nothing (issue 18, case 5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server import db
from server.content.hsds import HsdsError, HsdsImportReport, import_hsds
from server.content.hsds_regions import read_region_map
from server.models.content import Region, RegionKind, Resource

NOW_ISO = "2026-11-01"


@pytest.fixture
def database(app: Flask) -> db.Database:
    database = db.get_database(app)
    with database.session() as session:
        sudan = Region(
            slug="sudan",
            kind=RegionKind.COUNTRY,
            name="Sudan",
            country_code="SD",
            timezone="Africa/Khartoum",
            default_locale="ar",
        )
        ukraine = Region(
            slug="ukraine",
            kind=RegionKind.COUNTRY,
            name="Україна",
            country_code="UA",
            timezone="Europe/Kyiv",
            default_locale="uk",
        )
        session.add_all([sudan, ukraine])
        session.flush()
        session.add_all(
            [
                Region(
                    slug="port-sudan",
                    kind=RegionKind.AREA,
                    name="Port Sudan",
                    parent=sudan,
                    country_code="SD",
                    timezone="Africa/Khartoum",
                    default_locale="ar",
                ),
                Region(
                    slug="kharkiv",
                    kind=RegionKind.AREA,
                    name="Харків",
                    parent=ukraine,
                    country_code="UA",
                    timezone="Europe/Kyiv",
                    default_locale="uk",
                ),
            ]
        )
    return database


def located(service_id: str, location_id: str, **address: str) -> dict[str, Any]:
    """A service at one place with a physical address."""
    return {
        "id": service_id,
        "name": f"Service {service_id}",
        "status": "active",
        "assured_date": NOW_ISO,
        "organization": {"id": "org-1", "name": "Aid"},
        "service_at_locations": [
            {
                "id": f"sal-{service_id}",
                "location": {
                    "id": location_id,
                    "location_type": "physical",
                    "addresses": [
                        {"id": f"adr-{service_id}", "address_type": "physical", **address}
                    ],
                },
            }
        ],
    }


def run(
    database: db.Database, tmp_path: Path, records: list[dict[str, Any]], **options: Any
) -> HsdsImportReport:
    path = tmp_path / "services.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    with database.session() as session:
        default = options.pop("default", None)
        region = session.scalar(select(Region).where(Region.slug == default)) if default else None
        return import_hsds(session, path, region=region, **options)


def regions_of(database: db.Database) -> dict[str, str]:
    with database.session() as session:
        return {r.id: r.region.slug for r in session.scalars(select(Resource))}


def test_services_of_one_file_go_to_the_regions_their_addresses_name(
    database: db.Database, tmp_path: Path
) -> None:
    records = [
        located("a", "loc-a", city="PORT SUDAN", country="SD"),  # a locality, folded
        located("b", "loc-b", city="Kharkiv city", state_province="Харків", country="UA"),
        located("c", "loc-c", city="Kassala", country="SD"),  # only its country is known
        located("d", "loc-d", city="Atlantis", country="ZZ"),  # nothing: the default
        located("e", "loc-e", city="Port Sudan", country="US"),  # another country's namesake
    ]
    run(database, tmp_path, records, default="kharkiv")
    assert regions_of(database) == {
        "a": "port-sudan",
        "b": "kharkiv",
        "c": "sudan",
        "d": "kharkiv",
        "e": "kharkiv",
    }


def test_a_yaml_region_map_places_by_location_id_or_area(
    database: db.Database, tmp_path: Path
) -> None:
    mapping = tmp_path / "regions.yaml"
    mapping.write_text("loc-a: kharkiv\nKassala: port-sudan\n", encoding="utf-8")
    records = [
        located("a", "loc-a", city="Port Sudan", country="SD"),  # the map wins over names
        located("c", "loc-c", city="kassala", country="SD"),
    ]
    run(database, tmp_path, records, region_map=read_region_map(mapping))
    assert regions_of(database) == {"a": "kharkiv", "c": "port-sudan"}


def test_a_csv_region_map_places_by_state_or_province(
    database: db.Database, tmp_path: Path
) -> None:
    mapping = tmp_path / "regions.csv"
    mapping.write_text("key,region\nRed Sea State,port-sudan\n", encoding="utf-8")
    records = [located("a", "loc-a", city="Suakin", state_province="Red Sea State", country="SD")]
    run(database, tmp_path, records, region_map=read_region_map(mapping))
    assert regions_of(database) == {"a": "port-sudan"}


def test_a_service_matching_no_region_without_a_default_stops_the_import(
    database: db.Database, tmp_path: Path
) -> None:
    records = [located("a", "loc-a", city="Port Sudan"), located("d", "loc-d", city="Atlantis")]
    with pytest.raises(HsdsError, match=r"service d matches no region.*--region"):
        run(database, tmp_path, records)
    assert regions_of(database) == {}  # all or nothing


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("map.yaml", "loc-a: nowhere\n", "names no region nowhere"),
        ("map.yaml", "- a list\n", "must map each place"),
        ("map.csv", "place,slug\nx,kharkiv\n", "header must be 'key,region'"),
        ("map.csv", "key,region\nx,kharkiv,extra\n", "line 2: 3 fields"),
        ("map.yaml", "Kassala: sudan\nKASSALA: kharkiv\n", "mapped to two regions"),
    ],
)
def test_a_broken_region_map_is_refused_with_a_reason(
    database: db.Database, tmp_path: Path, name: str, text: str, message: str
) -> None:
    mapping = tmp_path / name
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(HsdsError, match=message):
        run(database, tmp_path, [located("a", "loc-a")], region_map=read_region_map(mapping))
    assert regions_of(database) == {}


def test_a_reimport_keeps_a_service_where_it_is_when_its_places_say_nothing(
    database: db.Database, tmp_path: Path
) -> None:
    helpline = {k: v for k, v in located("h", "loc-h").items() if k != "service_at_locations"}
    run(database, tmp_path, [helpline], default="port-sudan")
    run(database, tmp_path, [helpline], default="kharkiv")
    assert regions_of(database) == {"h": "port-sudan"}
