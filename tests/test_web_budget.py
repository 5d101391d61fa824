"""Every public page, in every language, fits 14 KB gzip and loads nothing from anywhere else."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import db
from server.models.checklists import Checklist
from server.models.content import Region, Resource
from server.web.pages import PAGE_SIZE
from tests.web_world import demo

__all__ = ["demo"]

BUDGET = 14 * 1024
#: Attributes through which a page makes the browser fetch something by itself.
FETCHING = {
    ("img", "src"),
    ("img", "srcset"),
    ("script", "src"),
    ("link", "href"),
    ("iframe", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("form", "action"),
    ("input", "src"),
}


def public_paths(app: Flask) -> Iterator[str]:
    """Every public page of the demo content, in every served language."""
    with db.get_database(app).session() as session:
        regions = list(session.scalars(select(Region.slug)))
        resources = list(session.scalars(select(Resource.id).where(Resource.retired.is_(False))))
        checklists = list(session.scalars(select(Checklist.id)))
    for locale in app.extensions["refuge.settings"].localization.locales:
        yield from (f"/{locale}/", f"/{locale}/resources", f"/{locale}/info")
        yield from (f"/{locale}/secure", f"/{locale}/about")
        for slug in regions:
            yield f"/{locale}/resources?region={slug}"
            yield f"/{locale}/info?region={slug}"
        for category in ("shelter", "medical", "helpline"):
            yield f"/{locale}/resources?category={category}"
        for resource_id in resources:
            yield f"/{locale}/resources/{resource_id}"
        for slug in checklists:
            yield f"/{locale}/secure/{slug}"


class Fetches(HTMLParser):
    """Every URL a page would fetch on its own, and every url() or @import in its styles."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if (tag, name) in FETCHING and value:
                self.urls.append(value)
            if name == "style" and value:
                self.urls.extend(re.findall(r"url\(([^)]*)\)", value))
            if tag == "meta" and name == "content" and value and "url=" in value.lower():
                self.urls.append(value)

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(re.findall(r"url\(([^)]*)\)|@import\s+([^;]+)", data))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def test_every_page_in_every_language_fits_the_budget(app: Flask, demo: FlaskClient) -> None:
    sizes: dict[str, int] = {}
    for path in public_paths(app):
        response = demo.get(path)
        assert response.status_code == 200, path
        sizes[path] = len(gzip.compress(response.get_data(), compresslevel=6))
    assert len(sizes) > 300
    largest = max(sizes, key=lambda path: sizes[path])
    assert sizes[largest] <= BUDGET, f"{largest} is {sizes[largest]} bytes gzip"


def test_a_long_result_list_still_fits_the_budget(demo: FlaskClient) -> None:
    html = demo.get("/my/resources").get_data()
    assert html.count(b'<article class="card">') == PAGE_SIZE
    assert len(gzip.compress(html)) <= BUDGET


def test_no_page_fetches_anything_from_anywhere_else(app: Flask, demo: FlaskClient) -> None:
    checked = 0
    for path in public_paths(app):
        if not path.startswith(("/en/", "/ar/", "/my/")):
            continue
        response = demo.get(path)
        parser = Fetches()
        parser.feed(response.get_data(as_text=True))
        for url in parser.urls:
            found = url if isinstance(url, str) else "".join(url)
            assert found.startswith("/"), (path, found)
            assert not found.startswith("//"), (path, found)
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        checked += 1
    assert checked > 100


def test_links_that_leave_send_no_referrer(demo: FlaskClient) -> None:
    html = demo.get("/ar/resources/sample-cxb-womens-safe-house").get_data(as_text=True)
    leaving = re.findall(r"<a [^>]*href=\"https?://[^>]*>", html)
    assert leaving  # the WhatsApp link
    for tag in leaving:
        assert 'rel="noreferrer"' in tag, tag
