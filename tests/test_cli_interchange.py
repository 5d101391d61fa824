"""`refuge cap` and `refuge hsds` as an operator runs them: files, feeds, clear refusals."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from server import db
from server.content import loader
from server.models.bulletins import Bulletin
from server.models.content import Resource

CAP_FIXTURES = Path(__file__).parent / "fixtures" / "cap"
CONTENT = Path(__file__).parent / "fixtures" / "content"
HSDS_EXAMPLES = Path(__file__).parent / "fixtures" / "hsds" / "examples"


def invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


@pytest.fixture
def loaded(app: Flask, tmp_path: Path) -> Flask:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    with db.get_database(app).session() as session:
        loader.load(session, root)
    return app


def _count(app: Flask, model: type[db.Base]) -> int:
    with db.get_database(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_cap_import_from_a_file_creates_bulletins_for_review(loaded: Flask) -> None:
    before = _count(loaded, Bulletin)
    result = invoke(
        loaded, "cap", "import", str(CAP_FIXTURES / "cyclone-alert.xml"), "--region", "testland"
    )
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output
    assert "1 waiting for review at /portal/review" in result.output
    assert _count(loaded, Bulletin) == before + 1
    again = invoke(
        loaded, "cap", "import", str(CAP_FIXTURES / "cyclone-alert.xml"), "--region", "testland"
    )
    assert "0 created" in again.output
    assert "1 unchanged" in again.output
    assert "waiting for review" not in again.output


@pytest.fixture
def feed_server() -> Iterator[str]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(CAP_FIXTURES), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_cap_import_from_a_feed_url(loaded: Flask, feed_server: str) -> None:
    url = f"{feed_server}/cyclone-alert.xml"
    result = invoke(loaded, "cap", "import", url, "--region", "testland", "--publish")
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output


def test_cap_import_of_a_hostile_or_broken_document_writes_nothing(
    loaded: Flask, tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><alert>&lol2;</alert>'
    )
    before = _count(loaded, Bulletin)
    result = invoke(loaded, "cap", "import", str(bomb))
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    assert "Traceback" not in result.output
    broken = tmp_path / "broken.xml"
    broken.write_text("<alert><identifier>x</alert>")
    result = invoke(loaded, "cap", "import", str(broken))
    assert result.exit_code == 1
    assert "line 1" in result.output
    assert _count(loaded, Bulletin) == before


def test_cap_import_with_an_unknown_region_is_refused(loaded: Flask) -> None:
    result = invoke(
        loaded, "cap", "import", str(CAP_FIXTURES / "cyclone-alert.xml"), "--region", "atlantis"
    )
    assert result.exit_code == 1
    assert "no region 'atlantis'" in result.output


def test_cap_export_writes_published_alerts(loaded: Flask, tmp_path: Path) -> None:
    out = tmp_path / "cap"
    result = invoke(loaded, "cap", "export", str(out), "--sender", "refuge@example.org")
    assert result.exit_code == 0, result.output
    written = sorted(path.name for path in out.glob("*.xml"))
    assert "test-flood-alert.xml" in written
    assert "test-old-alert.xml" not in written  # expired
    assert b"urn:oasis:names:tc:emergency:cap:1.2" in (out / "test-flood-alert.xml").read_bytes()


def test_hsds_import_of_the_official_csv_package_and_export(loaded: Flask, tmp_path: Path) -> None:
    result = invoke(loaded, "hsds", "import", str(HSDS_EXAMPLES / "csv"), "--region", "north-area")
    assert result.exit_code == 0, result.output
    assert "service:" in result.output
    imported = _count(loaded, Resource)
    again = invoke(loaded, "hsds", "import", str(HSDS_EXAMPLES / "csv"), "--region", "north-area")
    assert again.exit_code == 0
    assert _count(loaded, Resource) == imported
    out = tmp_path / "hsds"
    exported = invoke(loaded, "hsds", "export", str(out), "--include-samples")
    assert exported.exit_code == 0, exported.output
    services = json.loads((out / "services.json").read_text())
    assert len(services) == imported
    assert "Hidden" not in (out / "services.json").read_text()


def test_hsds_import_of_broken_json_names_the_line(loaded: Flask, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x",\n "name": }')
    before = _count(loaded, Resource)
    result = invoke(loaded, "hsds", "import", str(broken), "--region", "north-area")
    assert result.exit_code == 1
    assert "line 2" in result.output
    assert "nothing was imported" in result.output
    assert _count(loaded, Resource) == before


def test_content_load_reports_every_problem_and_loads_nothing(app: Flask, tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    (root / "regions" / "testland.yaml").write_text("slug: testland\nkind: planet\n")
    result = invoke(app, "content", "load", str(root))
    assert result.exit_code == 1
    assert "testland.yaml:2: 'kind': must be one of" in result.output
    assert "nothing was loaded" in result.output
    assert _count(app, Resource) == 0


def _regions_by_resource(app: Flask) -> dict[str, str]:
    with db.get_database(app).session() as session:
        return {r.id: r.region.slug for r in session.scalars(select(Resource))}


def test_hsds_reimport_of_its_own_export_moves_and_duplicates_nothing(
    loaded: Flask, tmp_path: Path
) -> None:
    services = [
        {
            "id": f"svc-{slug}",
            "name": f"Aid point in {slug}",
            "status": "active",
            "assured_date": "2026-11-01",
            "organization": {"id": "org-aid", "name": "Aid"},
            "service_at_locations": [
                {"id": f"sal-{slug}", "location": {"id": f"loc-{slug}", "name": "Tent"}}
            ],
        }
        for slug in ("east-city", "river-camp")
    ]
    source = tmp_path / "services.json"
    source.write_text(json.dumps(services), encoding="utf-8")
    mapping = tmp_path / "regions.csv"
    mapping.write_text("key,region\nloc-east-city,east-city\nloc-river-camp,river-camp\n")
    first = invoke(loaded, "hsds", "import", str(source), "--region-map", str(mapping))
    assert first.exit_code == 0, first.output
    before = _regions_by_resource(loaded)
    assert (before["svc-east-city"], before["svc-river-camp"]) == ("east-city", "river-camp")
    out = tmp_path / "export"
    assert invoke(loaded, "hsds", "export", str(out)).exit_code == 0
    # One --region for the whole file used to move every service there, and to copy the
    # file-loaded resources under new ids.
    again = invoke(loaded, "hsds", "import", str(out / "services.json"), "--region", "north-area")
    assert again.exit_code == 0, again.output
    # The two imported services are found where they are; the two file-loaded ones are kept.
    assert "service: 2 skipped, 2 unchanged" in again.output
    assert _regions_by_resource(loaded) == before


def test_hsds_import_matching_no_region_without_a_default_is_refused(
    loaded: Flask, tmp_path: Path
) -> None:
    source = tmp_path / "services.json"
    source.write_text(
        json.dumps(
            [
                {
                    "id": "svc-x",
                    "name": "Nowhere",
                    "status": "active",
                    "organization": {"id": "org-x", "name": "X"},
                }
            ]
        ),
        encoding="utf-8",
    )
    before = _count(loaded, Resource)
    result = invoke(loaded, "hsds", "import", str(source))
    assert result.exit_code != 0
    assert "matches no region" in result.output
    assert "nothing was imported" in result.output
    assert _count(loaded, Resource) == before
