"""The content version moves with every write of content, whatever module defines the model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import ForeignKeyConstraint, FromClause, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import server.models
from server.db import Base
from server.models.versions import ContentModel, ContentVersion, current

#: Modules that hold only content models.
CONTENT_MODULES = {
    f"{server.models.__name__}.{name}"
    for name in ("content", "bulletins", "checklists", "translations", "search")
}


def _content_tables() -> set[str]:
    mappers = Base.registry.mappers
    return {
        table.name
        for mapper in mappers
        if issubclass(mapper.class_, ContentModel)
        for table in mapper.tables
    }


def _refers_to(table: FromClause, names: set[str]) -> bool:
    return any(
        isinstance(constraint, ForeignKeyConstraint) and constraint.referred_table.name in names
        for constraint in table.constraints
    )


def test_every_model_of_content_carries_the_marker() -> None:
    content_tables = _content_tables()
    unmarked = [
        mapper.class_.__name__
        for mapper in Base.registry.mappers
        if not issubclass(mapper.class_, ContentModel)
        and (
            mapper.class_.__module__ in CONTENT_MODULES
            or any(_refers_to(table, content_tables) for table in mapper.tables)
        )
    ]
    assert unmarked == [], f"content models without ContentModel: {unmarked}"


def test_the_marker_check_would_see_a_model_that_names_a_region() -> None:
    # The check above must not pass merely for finding nothing to check.
    assert {"regions", "resources", "bulletins", "checklists"} <= _content_tables()
    assert _refers_to(Base.metadata.tables["phones"], {"resources"})


class _ElsewhereBase(DeclarativeBase):
    """A model registry of its own, as a brand-new module of content would have."""


class Leaflet(ContentModel, _ElsewhereBase):
    """Content defined outside `server.models`."""

    __tablename__ = "leaflets"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(64))


class Scratch(_ElsewhereBase):
    """Not content: writing it leaves the version alone."""

    __tablename__ = "scratch"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[ContentVersion.__table__])  # type: ignore[list-item]
    _ElsewhereBase.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_a_content_model_in_a_new_module_bumps_the_version(session: Session) -> None:
    before = current(session)
    leaflet = Leaflet(id="ration-days", title="Ration days")
    session.add(leaflet)
    session.flush()
    created = current(session)
    assert created is not None
    assert created != before
    leaflet.title = "Ration days moved"
    session.flush()
    assert current(session) not in (created, None)


def test_a_model_without_the_marker_leaves_the_version_alone(session: Session) -> None:
    before = current(session)
    session.add(Scratch(id="anything"))
    session.flush()
    assert current(session) == before
