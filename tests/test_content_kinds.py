"""The table of content kinds is complete and in an order the loader can follow."""

from __future__ import annotations

from pathlib import Path

from server.content import loader
from server.content.kinds import KINDS
from server.models.versions import ContentModel

FIXTURES = Path(__file__).parent / "fixtures" / "content"


def test_every_kind_is_named_once() -> None:
    for attribute in ("name", "folder", "model"):
        values = [getattr(kind, attribute) for kind in KINDS]
        assert len(set(values)) == len(values), attribute


def test_every_kind_of_content_is_a_content_model() -> None:
    assert [kind.name for kind in KINDS if not issubclass(kind.model, ContentModel)] == []


def test_every_folder_of_content_is_a_kind_so_none_is_ignored() -> None:
    folders = {path.name for path in FIXTURES.iterdir() if path.is_dir()}
    assert folders == {kind.folder for kind in KINDS}


def test_a_record_names_only_kinds_loaded_before_its_own() -> None:
    order = [kind.name for kind in KINDS]
    parsed = loader.read_all(FIXTURES)
    references = [
        (kind, named)
        for kind, items in parsed.items()
        for item in items
        for named, _id, _line in item.references
    ]
    assert references, "the fixtures should hold records that name others"
    for kind, named in references:
        # A kind that names its own (a region its parent) orders its records itself.
        assert order.index(named) <= order.index(kind), (kind, named)
