"""HSDS 3.0: the official examples import, imports are idempotent and all-or-nothing, broken
input is named, and the export validates, never leaks a confidential place and comes back."""

from __future__ import annotations

import csv
import json
import shutil
import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import db
from server.content import hsds_export
from server.content.hsds import HsdsError, HsdsImportReport, categories_for, import_hsds
from server.content.hsds_export import CONFIDENTIAL_NAME, export_hsds
from server.models.content import (
    Category,
    Location,
    Organization,
    Phone,
    PhoneKind,
    Region,
    RegionKind,
    Resource,
    ResourceCategory,
    ResourceLanguage,
    Schedule,
    ServiceStatus,
)
from server.models.search import SearchDocument

HSDS = Path(__file__).parent / "fixtures" / "hsds"
EXAMPLES = HSDS / "examples"
SCHEMA = HSDS / "schema" / "compiled" / "service_with_definitions.json"
EXAMPLE_NAMES = (
    [*sorted(p.name for p in EXAMPLES.glob("*.json")), "csv", "csv/datapackage.json"]
    if EXAMPLES.is_dir()
    else []
)
#: Examples that hold the example service, "Community Counselling".
WITH_SERVICE = {
    "organization_full.json",
    "service_full.json",
    "service_list.json",
    "service_at_location_full.json",
    "service_at_location_list.json",
    "tabular.json",
    "csv",
    "csv/datapackage.json",
}
needs_hsds = pytest.mark.skipif(not SCHEMA.is_file(), reason=f"HSDS 3.0 material not at {HSDS}")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MODELS: list[type[db.Base]] = [
    Organization,
    Resource,
    Location,
    Phone,
    Schedule,
    ResourceLanguage,
    ResourceCategory,
]
# The confidential shelter's whereabouts: none of these may appear in an export.
SECRETS = ("Safe House at Lane 9", "House 14, Lane 9", "Kolatoli", "21.4567", "92.0123")


@pytest.fixture
def database(app: Flask) -> db.Database:
    return db.get_database(app)


def region_named(session: Session, slug: str = "north") -> Region:
    region = session.scalar(select(Region).where(Region.slug == slug))
    if region is None:
        region = Region(
            slug=slug,
            kind=RegionKind.AREA,
            name=slug.title(),
            country_code="BD",
            timezone="Asia/Dhaka",
            default_locale="en",
        )
        session.add(region)
        session.flush()
    return region


def run_import(
    database: db.Database, path: Path, slug: str = "north", **options: Any
) -> HsdsImportReport:
    with database.session() as session:
        return import_hsds(session, path, region=region_named(session, slug), now=NOW, **options)


def write_json(tmp_path: Path, data: Any, name: str = "records.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def service(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "svc-1",
        "name": "Night shelter",
        "status": "active",
        "assured_date": "2026-11-01",
        "organization": {"id": "org-1", "name": "Harbour Aid", "description": "Runs shelters."},
    }
    record.update(fields)
    return record


def row_counts(database: db.Database) -> dict[str, int]:
    with database.session() as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in MODELS
        }


def only_resource(session: Session, resource_id: str = "svc-1") -> Resource:
    resource = session.get(Resource, resource_id)
    assert resource is not None
    return resource


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- The official examples ---------------------------------------------------------------------


@needs_hsds
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_official_example_imports(database: db.Database, name: str) -> None:
    report = run_import(database, EXAMPLES / name)
    assert report.records >= 1
    with database.session() as session:
        names = set(session.scalars(select(Resource.name)))
        organizations = set(session.scalars(select(Organization.name)))
    assert names == ({"Community Counselling"} if name in WITH_SERVICE else set())
    if name in WITH_SERVICE or name == "organization_list.json":
        assert organizations == {"Example Organization Inc."}


@needs_hsds
def test_organization_full_keeps_what_refuge_can_hold(database: db.Database) -> None:
    report = run_import(database, EXAMPLES / "organization_full.json")
    assert report.counts["organization"] == {"created": 1}
    assert report.counts["service"] == {"created": 1}
    assert report.counts["location"] == {"created": 1}
    assert report.counts["phone"] == {"created": 1}
    assert report.counts["language"] == {"created": 1}
    assert report.counts["schedule"] == {"skipped": 1}  # its rule ended in 2005
    assert report.unknown_fields == {}
    with database.session() as session:
        org = session.get(Organization, "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610")
        assert org is not None
        assert (org.name, org.alternate_name, org.origin) == (
            "Example Organization Inc.",
            "Example Org",
            "hsds",
        )
        assert (org.website, org.email) == ("http://example.com", "email@example.com")
        counselling = only_resource(session, "ac148810-d857-441c-9679-408f346de14b")
        assert counselling.name == "Community Counselling"
        assert counselling.alternate_name == "MyCity Counselling Services"
        assert counselling.organization_id == org.id
        assert counselling.region.slug == "north"
        assert counselling.status is ServiceStatus.ACTIVE
        assert counselling.verified_on == date(2005, 1, 1)
        assert counselling.verified_by == "email@example.com"
        assert counselling.url == "http://example.com/counselling"
        [phone] = counselling.phones
        assert (phone.number, phone.kind) == ("+44 1234 234567", PhoneKind.VOICE)
        assert phone.description is not None
        assert phone.description.startswith("Extension 100. Our main reception")
        assert [entry.code for entry in counselling.languages] == ["ur"]
        [place] = counselling.locations
        # Its only address is postal and its coordinates (100, 101) are not on Earth.
        assert (place.name, place.address, place.latitude) == ("MyCity Civic Center", None, None)
        assert counselling.categories == []
        searchable = select(func.count()).where(SearchDocument.resource_id == counselling.id)
        assert session.scalar(searchable) == 1
    warnings = "\n".join(report.warnings)
    assert "100.0, 101.0 is not a place on Earth" in warnings
    assert "ended on 2005-01-01" in warnings
    assert "no taxonomy term matches a Refuge category" in warnings
    assert warnings.count("'+44 1234 234567' is not in E.164 form; kept as written") == 1


@needs_hsds
def test_the_csv_package_imports_what_its_files_say(database: db.Database) -> None:
    folder = EXAMPLES / "csv"
    [service_row] = csv_rows(folder / "services.csv")
    [org_row] = csv_rows(folder / "organizations.csv")
    [phone_row] = csv_rows(folder / "phones.csv")
    [location_row] = csv_rows(folder / "locations.csv")
    report = run_import(database, folder)
    assert report.counts["service"] == {"created": 1}
    assert report.counts["organization"] == {"created": 1}
    with database.session() as session:
        resource = only_resource(session, service_row["id"])
        assert resource.name == service_row["name"]
        assert resource.description == service_row["description"].strip()
        assert resource.organization.name == org_row["name"]
        assert resource.verified_on.isoformat() == service_row["assured_date"]
        assert [p.number for p in resource.phones] == [phone_row["number"].strip('"')]
        assert [entry.code for entry in resource.languages] == ["ur"]
        assert [place.name for place in resource.locations] == [location_row["name"]]


@needs_hsds
@pytest.mark.parametrize("name", ["organization_full.json", "service_full.json", "csv"])
def test_importing_again_changes_nothing(database: db.Database, name: str) -> None:
    run_import(database, EXAMPLES / name)
    before = row_counts(database)
    again = run_import(database, EXAMPLES / name)
    assert row_counts(database) == before
    assert again.get("service", "unchanged") == 1
    assert all(outcomes.get("created", 0) == 0 for outcomes in again.counts.values())
    assert all(outcomes.get("removed", 0) == 0 for outcomes in again.counts.values())


# --- Broken input -------------------------------------------------------------------------------


def test_broken_json_is_named_with_its_line(database: db.Database, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "id": "svc-1",\n  "name": "Clinic",\n  "status": \n}\n')
    with pytest.raises(HsdsError, match=r"broken\.json: line 5, column 1: invalid JSON"):
        run_import(database, path)


@needs_hsds
def test_a_csv_without_a_required_column_names_the_file(
    database: db.Database, tmp_path: Path
) -> None:
    folder = tmp_path / "package"
    shutil.copytree(EXAMPLES / "csv", folder)
    rows = list(csv.reader((folder / "services.csv").open(encoding="utf-8", newline="")))
    drop = rows[0].index("name")
    with (folder / "services.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([v for i, v in enumerate(row) if i != drop] for row in rows)
    with pytest.raises(HsdsError, match=r"services\.csv: line 1: missing required column name"):
        run_import(database, folder)


@needs_hsds
def test_a_broken_csv_row_is_named_with_its_line(database: db.Database, tmp_path: Path) -> None:
    folder = tmp_path / "package"
    shutil.copytree(EXAMPLES / "csv", folder)
    with (folder / "phones.csv").open("a", encoding="utf-8") as handle:
        handle.write("only,three,fields\n")
    with pytest.raises(HsdsError, match=r"phones\.csv: line 3: 3 fields where the header has 10"):
        run_import(database, folder)


@needs_hsds
def test_a_csv_record_without_a_name_is_named_with_its_line(
    database: db.Database, tmp_path: Path
) -> None:
    folder = tmp_path / "package"
    shutil.copytree(EXAMPLES / "csv", folder)
    with (folder / "services.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["name"] = ""
    with (folder / "services.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(HsdsError, match=r"^services\.csv line 2: the required field name"):
        run_import(database, folder)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"id": None}, r"records\.json: service #2: the required field id is missing"),
        ({"name": ""}, r"records\.json: service svc-2: the required field name is missing"),
        ({"phones": [{"id": "p1"}]}, r"service svc-2, phone p1: the required field number"),
        ({"schedules": [{"id": "s1", "opens_at": "9am"}]}, r"schedule s1: opens_at '9am' is not"),
    ],
)
def test_a_broken_record_stops_the_whole_import(
    database: db.Database, tmp_path: Path, broken: dict[str, Any], message: str
) -> None:
    path = write_json(tmp_path, [service(), service(**{"id": "svc-2", **broken})])
    with pytest.raises(HsdsError, match=message):
        run_import(database, path)
    assert row_counts(database)["resources"] == 0  # the good first record went too


def test_unknown_fields_are_listed_not_fatal(database: db.Database, tmp_path: Path) -> None:
    record = service(
        x_priority="high",
        phones=[{"id": "p1", "number": "+441234567890", "x_verified": True}],
    )
    record["organization"]["x_rating"] = 5
    report = run_import(database, write_json(tmp_path, record))
    assert report.unknown_fields == {
        "service.x_priority": 1,
        "organization.x_rating": 1,
        "phone.x_verified": 1,
    }
    assert report.counts["service"] == {"created": 1}


@needs_hsds
def test_unknown_csv_columns_are_listed(database: db.Database, tmp_path: Path) -> None:
    folder = tmp_path / "package"
    shutil.copytree(EXAMPLES / "csv", folder)
    rows = list(csv.reader((folder / "services.csv").open(encoding="utf-8", newline="")))
    with (folder / "services.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([[*rows[0], "x_colour"], *([*r, "teal"] for r in rows[1:])])
    report = run_import(database, folder)
    assert report.unknown_fields == {"service.x_colour": 1}


@needs_hsds
def test_a_datapackage_may_not_point_outside_itself(database: db.Database, tmp_path: Path) -> None:
    folder = tmp_path / "package"
    shutil.copytree(EXAMPLES / "csv", folder)
    package = json.loads((folder / "datapackage.json").read_text())
    package["resources"][0]["path"] = "../../etc/passwd"
    (folder / "datapackage.json").write_text(json.dumps(package))
    with pytest.raises(HsdsError, match=r"datapackage\.json: \.\./\.\./etc/passwd is outside"):
        run_import(database, folder)


@needs_hsds
def test_a_service_at_location_adds_to_its_service(database: db.Database) -> None:
    run_import(database, EXAMPLES / "organization_full.json")
    before = row_counts(database)
    report = run_import(database, EXAMPLES / "service_at_location_list.json")
    assert row_counts(database) == before  # it names the same place: nothing new, nothing lost
    assert report.counts["service"] == {"unchanged": 1}


# --- Mapping ------------------------------------------------------------------------------------


def test_phones_map_to_voice_text_and_whatsapp(database: db.Database, tmp_path: Path) -> None:
    phones = [
        {"id": "p1", "number": "+441234567890", "type": "voice"},
        {"id": "p2", "number": "+44 7700 900123", "type": "text", "description": "SMS only"},
        {"id": "p3", "number": "+447700900124", "type": "cell", "description": "On WhatsApp"},
        {"id": "p4", "number": "+441234567899", "type": "fax"},
        {"id": "p5", "number": "+441234567898", "type": "textphone"},
    ]
    report = run_import(database, write_json(tmp_path, service(phones=phones)))
    with database.session() as session:
        kept = {(p.number, p.kind) for p in only_resource(session).phones}
    assert kept == {
        ("+441234567890", PhoneKind.VOICE),
        ("+44 7700 900123", PhoneKind.TEXT),
        ("+447700900124", PhoneKind.WHATSAPP),
        ("+441234567898", PhoneKind.VOICE),
    }
    assert report.counts["phone"] == {"created": 4, "skipped": 1}
    warnings = "\n".join(report.warnings)
    assert "phone p4: a fax number; skipped" in warnings
    assert "'+44 7700 900123' is not in E.164 form; kept as written" in warnings


def test_unsafe_links_are_left_out(database: db.Database, tmp_path: Path) -> None:
    record = service(url="javascript:alert(1)", email="write to us")
    report = run_import(database, write_json(tmp_path, record))
    with database.session() as session:
        resource = only_resource(session)
        assert (resource.url, resource.email) == (None, None)
    assert sum("is not a usable address; left out" in w for w in report.warnings) == 2


def test_schedules_languages_and_status(database: db.Database, tmp_path: Path) -> None:
    record = service(
        status="closed for winter",
        assured_date=None,
        last_modified="2026-10-05T08:00:00Z",
        schedules=[
            {"id": "s1", "byday": "MO,TU,WE", "opens_at": "09:00", "closes_at": "17:30:00"},
            {"id": "s2", "byday": "Saturday, Sunday", "opens_at": "10:00", "closes_at": "24:00"},
            {"id": "s3", "freq": "MONTHLY", "bymonthday": "1", "opens_at": "10:00"},
        ],
        languages=[
            {"id": "l1", "code": "eng"},
            {"id": "l2", "name": "Burmese"},
            {"id": "l3", "code": "rhg", "name": "Rohingya"},
            {"id": "l4", "code": "en_GB"},
            {"id": "l5", "name": "Martian"},
        ],
    )
    report = run_import(database, write_json(tmp_path, record))
    with database.session() as session:
        resource = only_resource(session)
        assert resource.status is ServiceStatus.INACTIVE
        assert resource.verified_on == date(2026, 10, 5)
        hours = [(s.byday, s.opens_at, s.closes_at) for s in resource.schedules]
        assert hours == [
            ("MO,TU,WE", time(9), time(17, 30)),
            ("SA,SU", time(10), time(23, 59, 59)),
        ]
        assert sorted(entry.code for entry in resource.languages) == ["en", "en-GB", "my", "rhg"]
    warnings = "\n".join(report.warnings)
    assert "status 'closed for winter' is not an HSDS status; imported as inactive" in warnings
    assert "no assured_date; verified on its last_modified date" in warnings
    assert "schedule s3: is not weekly" in warnings
    assert "language 'Martian' is not recognised" in warnings


def test_a_service_with_no_dates_is_verified_today_and_says_so(
    database: db.Database, tmp_path: Path
) -> None:
    report = run_import(database, write_json(tmp_path, service(assured_date=None)))
    with database.session() as session:
        assert only_resource(session).verified_on == NOW.date()
    assert any("verified_on is today" in warning for warning in report.warnings)


@pytest.mark.parametrize(
    ("code", "name", "expected"),
    [
        ("", "Mental health support", {Category.PSYCHOSOCIAL}),
        ("", "Primary health care", {Category.MEDICAL}),
        ("BH-1800", "Emergency Shelter", {Category.SHELTER}),
        ("", "Housing", {Category.SHELTER}),
        ("food", "Food pantry", {Category.FOOD_WATER}),
        ("", "Legal aid", {Category.LEGAL_AID}),
        ("", "Child protection", {Category.PROTECTION}),
        ("", "Restoring family links", {Category.FAMILY_TRACING}),
        ("food_water", "Anything", {Category.FOOD_WATER}),
        ("", "Crisis hotline and counselling", {Category.HELPLINE, Category.PSYCHOSOCIAL}),
        ("code", "name", set()),
        ("", "Employment", set()),
    ],
)
def test_taxonomy_terms_map_to_categories_only_when_clear(
    code: str, name: str, expected: set[Category]
) -> None:
    assert categories_for({"code": code, "name": name}) == expected


def test_attributes_give_categories(database: db.Database, tmp_path: Path) -> None:
    attributes = [
        {"id": "a1", "taxonomy_term": {"id": "t1", "name": "Emergency shelter"}},
        {"id": "a2", "taxonomy_term": {"id": "t2", "code": "legal_aid", "name": "Lawyers"}},
    ]
    run_import(database, write_json(tmp_path, service(attributes=attributes)))
    with database.session() as session:
        categories = only_resource(session).category_codes
    assert categories == [Category.LEGAL_AID, Category.SHELTER]


def test_progress_is_reported_per_record(database: db.Database, tmp_path: Path) -> None:
    records = [service(id=f"svc-{n}", name=f"Shelter {n}") for n in range(1, 4)]
    seen: list[int] = []
    run_import(database, write_json(tmp_path, {"contents": records}), on_progress=seen.append)
    assert seen == [1, 2, 3]


def test_records_kept_in_content_files_are_not_overwritten(
    database: db.Database, tmp_path: Path
) -> None:
    with database.session() as session:
        org = Organization(id="org-1", name="Harbour Aid (files)", description="")
        session.add(org)
        session.add(
            Resource(
                id="svc-1",
                organization=org,
                region=region_named(session),
                name="Night shelter (files)",
                verified_on=date(2026, 11, 1),
                verified_by="Harbour Aid",
            )
        )
    report = run_import(database, write_json(tmp_path, service()))
    assert report.counts["service"] == {"skipped": 1}
    assert report.counts["organization"] == {"skipped": 1}
    with database.session() as session:
        assert only_resource(session).name == "Night shelter (files)"


# --- Export -------------------------------------------------------------------------------------


def populate(database: db.Database) -> None:
    """A clinic, a confidential shelter, a retired and a sample resource."""
    with database.session() as session:
        region = region_named(session, "cox-s-bazar")
        org = Organization(
            id="test-health-ngo",
            name="Camp Health Partners",
            description="Runs the health posts.",
            website="https://example.org/",
            email="info@example.org",
        )

        def resource(resource_id: str, **fields: Any) -> Resource:
            return Resource(
                id=resource_id,
                organization=org,
                region=region,
                verified_on=date(2026, 11, 10),
                verified_by="Camp Health Partners field team",
                **fields,
            )

        session.add_all(
            [
                resource(
                    "test-health-post",
                    name="Health Post, Camp 12",
                    description="First aid, maternal care and referrals. Free.",
                    url="https://example.org/camp-12",
                    categories=[
                        ResourceCategory(category=Category.MEDICAL),
                        ResourceCategory(category=Category.PSYCHOSOCIAL),
                    ],
                    languages=[ResourceLanguage(code=c) for c in ("bn", "en", "rhg")],
                    phones=[
                        Phone(id="hp-voice", number="+8801700000000", kind=PhoneKind.VOICE),
                        Phone(id="hp-wa", number="+8801700000001", kind=PhoneKind.WHATSAPP),
                        Phone(
                            id="hp-sms",
                            number="+880 1700 000 002",
                            kind=PhoneKind.TEXT,
                            description="Replies within a day",
                        ),
                    ],
                    schedules=[
                        Schedule(
                            byday="MO,TU,WE,TH,FR,SA",
                            opens_at=time(8),
                            closes_at=time(16),
                            description="Closed on public holidays",
                        ),
                        Schedule(byday="SU", opens_at=time(9, 30), closes_at=time(12)),
                    ],
                    locations=[
                        Location(
                            id="hp-site",
                            name="Camp 12, Block C",
                            address="Road 3, near the learning centre",
                            city="Ukhia",
                            country_code="BD",
                            latitude=21.2,
                            longitude=92.1,
                        )
                    ],
                ),
                resource(
                    "test-safe-shelter",
                    name="Women's safe shelter",
                    categories=[
                        ResourceCategory(category=Category.SHELTER),
                        ResourceCategory(category=Category.PROTECTION),
                    ],
                    languages=[ResourceLanguage(code="bn")],
                    phones=[Phone(id="sh-line", number="+8801800000000", kind=PhoneKind.VOICE)],
                    locations=[
                        Location(
                            id="sh-house",
                            name=SECRETS[0],
                            address=SECRETS[1],
                            city=SECRETS[2],
                            country_code="BD",
                            latitude=float(SECRETS[3]),
                            longitude=float(SECRETS[4]),
                            confidential=True,
                            call_first_phone="+8801800000999",
                        )
                    ],
                ),
                resource("test-old-clinic", name="Closed clinic", retired=True),
                resource("test-sample-post", name="Sample post", sample=True),
            ]
        )


def schema_validator() -> jsonschema.Draft202012Validator:
    kind = jsonschema.Draft202012Validator
    return kind(json.loads(SCHEMA.read_text()), format_checker=kind.FORMAT_CHECKER)


@needs_hsds
def test_the_schema_check_accepts_the_official_service() -> None:
    official = json.loads((EXAMPLES / "service_full.json").read_text())
    assert list(schema_validator().iter_errors(official)) == []
    assert not schema_validator().is_valid({"id": "not-a-uuid", "name": "x", "status": "active"})


@needs_hsds
def test_export_writes_valid_services_and_hides_confidential_places(
    database: db.Database, tmp_path: Path
) -> None:
    populate(database)
    out = tmp_path / "out"
    with database.session() as session:
        report = export_hsds(session, out, now=NOW, schema=SCHEMA)
    assert report.validated
    assert (report.services, report.organizations, report.locations) == (2, 1, 2)
    assert (report.confidential_locations, report.samples_left_out) == (1, 1)
    services = json.loads((out / "services.json").read_text(encoding="utf-8"))
    validator = schema_validator()
    for record in services:
        assert list(validator.iter_errors(record)) == [], record["name"]
    assert sorted(record["name"] for record in services) == [
        "Health Post, Camp 12",
        "Women's safe shelter",
    ]
    shelter = next(record for record in services if record["name"] == "Women's safe shelter")
    [at_shelter] = shelter["service_at_locations"]
    assert at_shelter["location"] == {
        "id": at_shelter["location_id"],
        "location_type": "physical",
        "name": CONFIDENTIAL_NAME,
    }
    assert "+8801800000999" in [phone["number"] for phone in shelter["phones"]]
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into {path.name}"


@needs_hsds
def test_export_writes_the_hsds_datapackage(database: db.Database, tmp_path: Path) -> None:
    populate(database)
    with database.session() as session:
        report = export_hsds(session, tmp_path, now=NOW, schema=SCHEMA)
    tables = [
        "organizations.csv",
        "services.csv",
        "locations.csv",
        "service_at_location.csv",
        "service_areas.csv",
        "addresses.csv",
        "phones.csv",
        "schedules.csv",
        "languages.csv",
        "taxonomies.csv",
        "taxonomy_terms.csv",
        "attributes.csv",
    ]
    assert sorted(report.files) == sorted([*tables, "services.json", "datapackage.json"])
    for name in tables:
        with (tmp_path / name).open(encoding="utf-8", newline="") as mine:
            header = next(csv.reader(mine))
        with (EXAMPLES / "csv" / name).open(encoding="utf-8", newline="") as official:
            assert header == next(csv.reader(official)), name
    package = json.loads((tmp_path / "datapackage.json").read_text())
    assert [(r["name"], r["path"]) for r in package["resources"]][:2] == [
        ("organization", "organizations.csv"),
        ("service", "services.csv"),
    ]
    assert len(csv_rows(tmp_path / "phones.csv")) == 5  # 3 + 1 + the shelter's call-first line
    assert {row["code"] for row in csv_rows(tmp_path / "taxonomy_terms.csv")} == {
        "medical",
        "psychosocial",
        "shelter",
        "protection",
    }


@needs_hsds
def test_imported_examples_export_as_valid_hsds(database: db.Database, tmp_path: Path) -> None:
    run_import(database, EXAMPLES / "organization_full.json")
    with database.session() as session:
        report = export_hsds(session, tmp_path, now=NOW, schema=SCHEMA)
    assert (report.services, report.validated) == (1, True)
    [record] = json.loads((tmp_path / "services.json").read_text(encoding="utf-8"))
    assert (
        record["id"] == "ac148810-d857-441c-9679-408f346de14b"
    )  # HSDS ids go back out as they came


def test_export_refuses_a_record_the_schema_rejects(database: db.Database, tmp_path: Path) -> None:
    populate(database)
    strict = write_json(tmp_path, {"type": "object", "required": ["x_refuge_never"]}, "s.json")
    with (
        pytest.raises(HsdsError, match=r"services\.json: service .*'x_refuge_never' is a required"),
        database.session() as session,
    ):
        export_hsds(session, tmp_path / "out", now=NOW, schema=strict)
    assert not (tmp_path / "out").exists()


def test_export_checks_records_against_the_vendored_schema(
    database: db.Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = write_json(tmp_path, {"type": "object", "required": ["x_refuge_never"]}, "s.json")
    monkeypatch.setattr(hsds_export, "DEFAULT_SCHEMA", strict)
    populate(database)
    with (
        pytest.raises(HsdsError, match="'x_refuge_never' is a required"),
        database.session() as session,
    ):
        export_hsds(session, tmp_path / "out", now=NOW)
    assert not (tmp_path / "out").exists()


def test_the_vendored_schema_refuses_a_service_hsds_forbids() -> None:
    vendored = json.loads(hsds_export.DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    kind = jsonschema.Draft202012Validator
    kind.check_schema(vendored)
    validator = kind(vendored, format_checker=kind.FORMAT_CHECKER)
    assert validator.is_valid({"id": str(uuid.uuid4()), "name": "x", "status": "active"})
    assert not validator.is_valid({"id": "not-a-uuid", "name": "x", "status": "active"})
    assert not validator.is_valid({"id": str(uuid.uuid4()), "name": "x"})


def test_export_without_its_vendored_schema_refuses_to_write(
    database: db.Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hsds_export, "DEFAULT_SCHEMA", tmp_path / "absent.json")
    populate(database)
    with (
        pytest.raises(HsdsError, match=r"absent\.json: the vendored HSDS schema is missing"),
        database.session() as session,
    ):
        export_hsds(session, tmp_path / "out", now=NOW)
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_schema_path_that_does_not_exist(
    database: db.Database, tmp_path: Path
) -> None:
    with (
        pytest.raises(HsdsError, match=r"absent\.json: no such HSDS schema"),
        database.session() as session,
    ):
        export_hsds(session, tmp_path / "out", now=NOW, schema=tmp_path / "absent.json")
    assert not (tmp_path / "out").exists()


def snapshot(resource: Resource) -> dict[str, Any]:
    return {
        "name": resource.name,
        "description": resource.description,
        "status": resource.status,
        "verified_on": resource.verified_on,
        "organization": resource.organization.name,
        "phones": sorted((p.number, p.kind.value, p.description or "") for p in resource.phones),
        "schedules": sorted(
            (s.byday, str(s.opens_at), str(s.closes_at), s.description or "")
            for s in resource.schedules
        ),
        "languages": sorted(entry.code for entry in resource.languages),
        "categories": sorted(category.value for category in resource.category_codes),
        "locations": sorted(
            repr((p.name, p.address, p.city, p.country_code, p.latitude, p.longitude))
            for p in resource.locations
        ),
    }


def kept_by_hsds(database: db.Database) -> None:
    """The populated records, as an earlier HSDS import would have left them."""
    with database.session() as session:
        for org in session.scalars(select(Organization)):
            org.origin = "hsds"
        for resource in session.scalars(select(Resource)):
            resource.origin = "hsds"


def test_export_then_import_keeps_what_matters(database: db.Database, tmp_path: Path) -> None:
    populate(database)
    kept_by_hsds(database)
    out = tmp_path / "out"
    with database.session() as session:
        assert export_hsds(session, out, now=NOW).validated  # the vendored schema
        originals = {r.name: snapshot(r) for r in session.scalars(select(Resource))}
        regions = {r.name: r.region.slug for r in session.scalars(select(Resource))}
    before = row_counts(database)
    # The default region is for places that match nothing: these match where they are.
    report = run_import(database, out / "services.json", slug="elsewhere")
    assert report.counts["service"] == {"unchanged": 2}
    assert row_counts(database) == before
    with database.session() as session:
        assert {r.name: snapshot(r) for r in session.scalars(select(Resource))} == originals
        assert {r.name: r.region.slug for r in session.scalars(select(Resource))} == regions
        (shelter,) = session.scalars(select(Location).where(Location.confidential.is_(True)))
        assert (shelter.name, shelter.city) == (SECRETS[0], SECRETS[2])  # not the placeholder
    # The datapackage says the same as services.json: importing it changes nothing.
    again = run_import(database, out, slug="elsewhere")
    assert again.counts["service"] == {"unchanged": 2}
    assert all(outcomes.get("created", 0) == 0 for outcomes in again.counts.values())
    assert all(outcomes.get("removed", 0) == 0 for outcomes in again.counts.values())
    assert row_counts(database) == before


def test_reimporting_an_export_never_duplicates_a_file_loaded_resource(
    database: db.Database, tmp_path: Path
) -> None:
    populate(database)
    with database.session() as session:
        export_hsds(session, tmp_path / "out", now=NOW)
    before = row_counts(database)
    report = run_import(database, tmp_path / "out" / "services.json", slug="elsewhere")
    assert report.counts["service"] == {"skipped": 2}
    assert row_counts(database) == before
    with database.session() as session:
        assert {r.region.slug for r in session.scalars(select(Resource))} == {"cox-s-bazar"}


def test_eligibility_fees_and_application_process_are_kept_and_exported(
    database: db.Database, tmp_path: Path
) -> None:
    access = {
        "eligibility_description": "Women and children, no documents needed",
        "fees_description": "Free",
        "application_process": "Walk in, or call first at night",
    }
    run_import(database, write_json(tmp_path, service(**access)))
    with database.session() as session:
        resource = only_resource(session)
        assert (resource.eligibility, resource.fees, resource.application_process) == tuple(
            access.values()
        )
        export_hsds(session, tmp_path / "out", now=NOW)
    (exported,) = json.loads((tmp_path / "out" / "services.json").read_text(encoding="utf-8"))
    assert {name: exported[name] for name in access} == access
    (row,) = csv_rows(tmp_path / "out" / "services.csv")
    assert {name: row[name] for name in access} == access
