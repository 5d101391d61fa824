"""HSDS records into Refuge's models: organizations and services upserted in the caller's
session, each service's phones, locations, schedules, languages and categories brought in line,
and the search documents of what changed rebuilt. Nothing is committed here.

Records are matched by identifier: an HSDS id is a Refuge id, or the id Refuge's own export
wrote for one (`hsds_export.hsds_id`), so re-importing an export updates in place and never
duplicates a record, whoever keeps it. Each service's region comes from its places
(`hsds_regions`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.content import search
from server.content.hsds import (
    ORIGIN,
    HsdsError,
    Item,
    Record,
    _date,
    _identifier,
    _object,
    _objects,
    _required,
    _text,
    derived_id,
)
from server.content.hsds_export import CONFIDENTIAL_NAME, hsds_id
from server.content.hsds_read import HsdsReader
from server.content.hsds_regions import RegionChooser
from server.content.schema import RECORD_ID
from server.models.content import (
    NAME_LENGTH,
    URL_LENGTH,
    Location,
    Organization,
    Phone,
    Resource,
    ResourceCategory,
    ResourceLanguage,
    Schedule,
    ServiceStatus,
)

_NOT_IMPORTED = {
    "location": "is linked to no service; Refuge keeps places per service",
    "taxonomy_term": "is a taxonomy term; categories come from a service's attributes",
    "taxonomy": "is a taxonomy, not a service",
    "metadata": "is HSDS metadata, not a record",
}
_Child = TypeVar("_Child", Phone, Location)


def _assign(row: object, values: Record) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _placeholder(values: Record | None) -> bool:
    """The values of the nameless place Refuge exports a confidential location as."""
    return values is not None and values["name"] == CONFIDENTIAL_NAME and not values["address"]


class HsdsImporter(HsdsReader):
    """One import run: what it read (see HsdsReader), and the records written so far."""

    def __init__(
        self,
        session: Session,
        chooser: RegionChooser,
        now: datetime,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        super().__init__(now)
        self.session, self.chooser, self.on_progress = session, chooser, on_progress
        self.exported_ids: dict[type[Any], dict[str, str]] = {}
        self.organizations: dict[str, Organization] = {}
        self.changed_organizations: set[str] = set()
        self.changed_resources: set[str] = set()
        self.resources: dict[str, Resource | None] = {}

    def run(self, items: list[Item]) -> None:
        for kind, record, where in items:
            try:
                if kind == "organization":
                    self.organization(record, where)
                elif kind == "service":
                    self.service(record, where, None, merge=False)
                elif kind == "service_at_location":
                    self.service_at_location(record, where)
                else:
                    self.report.count(kind, "skipped")
                    self.warn(f"{where}: {_NOT_IMPORTED[kind]}")
                self.session.flush()
            except SQLAlchemyError as error:
                reason = str(getattr(error, "orig", error)).splitlines()[0]
                raise HsdsError(f"{where}: the database refused it: {reason}") from None
            self.report.records += 1
            if self.on_progress is not None:
                self.on_progress(self.report.records)
        # Search documents carry the organization's name, so its resources follow its changes.
        stale = select(Resource).where(
            Resource.id.in_(self.changed_resources)
            | Resource.organization_id.in_(self.changed_organizations)
        )
        search.reindex_all(self.session, self.session.scalars(stale))
        self.session.flush()

    def refuge_id(self, model: type[Any], kind: str, given: str) -> str:
        """The Refuge id an HSDS id stands for: the record itself, or the one exported as it."""
        if self.session.get(model, given) is not None:
            return given
        if model not in self.exported_ids:
            ids = self.session.scalars(select(model.id))
            self.exported_ids[model] = {hsds_id(kind, refuge): refuge for refuge in ids}
        found = self.exported_ids[model].get(given)
        if found is not None:
            return found
        # An id a content file could not be named after is kept as a stable UUID made from it.
        return given if RECORD_ID.fullmatch(given) else derived_id(kind, given)

    def organization(self, record: Record, where: str) -> Organization:
        self.check("organization", record)
        org_id, name = _identifier(record, where), _required(record, "name", where)
        org_id = self.refuge_id(Organization, "organization", org_id)
        if org_id not in self.organizations:
            self.organizations[org_id] = self.upsert_organization(record, where, org_id, name)
        org = self.organizations[org_id]
        for number, service in enumerate(_objects(record, "services", where) or [], 1):
            inner = f"{where}, service {service.get('id') or f'#{number}'}"
            self.service(service, inner, org, merge=False)
        return org

    def upsert_organization(
        self, record: Record, where: str, org_id: str, name: str
    ) -> Organization:
        org = self.session.get(Organization, org_id)
        if org is not None and org.origin != ORIGIN:
            self.warn(f"{where}: organization {org_id} is kept in {org.origin}; left as it is")
            self.report.count("organization", "skipped")
            return org
        values = {
            "name": self.fit(name, NAME_LENGTH, where, "name"),
            "alternate_name": self.fit(
                _text(record, "alternate_name", where), NAME_LENGTH, where, "alternate_name"
            ),
            "description": _text(record, "description", where) or "",
            "website": self.link(record, "website", where, URL_LENGTH),
            "email": self.link(record, "email", where, NAME_LENGTH),
            "retired": False,
        }
        outcome = "created" if org is None else "updated" if _assign(org, values) else "unchanged"
        if org is None:
            org = Organization(id=org_id, origin=ORIGIN, **values)
            self.session.add(org)
        if outcome != "unchanged":
            org.updated_at = self.now
            self.changed_organizations.add(org_id)
        self.report.count("organization", outcome)
        return org

    def service(
        self, record: Record, where: str, org: Organization | None, *, merge: bool
    ) -> Resource | None:
        self.check("service", record)
        service_id, name = _identifier(record, where), _required(record, "name", where)
        if service_id in self.resources:
            if not merge:
                self.warn(f"{where}: service {service_id} is given twice; the first is kept")
            return self.resources[service_id]
        self.resources[service_id] = None
        org = org or self.organization_of(record, where)
        hsds_service_id, service_id = service_id, self.refuge_id(Resource, "service", service_id)
        resource = self.session.get(Resource, service_id)
        kept_by = resource.origin if resource is not None and resource.origin != ORIGIN else None
        if org is None or kept_by is not None:
            why = f"is kept in {kept_by}" if kept_by else "names no organization"
            self.warn(f"{where}: service {service_id} {why}; skipped")
            self.report.count("service", "skipped")
            return None
        region = self.chooser.choose(record, resource.region if resource is not None else None)
        if region is None:
            raise HsdsError(
                f"{where}: service {hsds_service_id} matches no region by its places; "
                "give --region, or map it in --region-map"
            )
        values = self.service_values(record, where, name, org, resource)
        values["region_id"] = region.id
        if resource is None:
            resource = Resource(id=service_id, origin=ORIGIN, updated_at=self.now, **values)
            self.session.add(resource)
            outcome = "created"
        else:
            if resource.region_id != region.id:
                self.warn(f"{where}: service {hsds_service_id} moves to region {region.slug}")
            outcome = "updated" if _assign(resource, values) else "unchanged"
        if self.children(resource, record, where, merge=merge) and outcome == "unchanged":
            outcome = "updated"
        if outcome == "updated":
            resource.updated_at = self.now
        if outcome != "unchanged":
            self.changed_resources.add(service_id)
        if not resource.categories:
            self.warn(f"{where}: no taxonomy term matches a Refuge category; it has none")
        self.report.count("service", outcome)
        self.resources[hsds_service_id] = resource
        return resource

    def organization_of(self, record: Record, where: str) -> Organization | None:
        nested = _object(record, "organization", where)
        if nested is not None:
            return self.organization(nested, self.at(nested, f"{where}, organization"))
        org_id = _text(record, "organization_id", where)
        if org_id is not None:
            org_id = self.refuge_id(Organization, "organization", org_id)
        if org_id is None or org_id in self.organizations:
            return self.organizations.get(org_id or "")
        return self.session.get(Organization, org_id)

    def service_values(
        self, record: Record, where: str, name: str, org: Organization, old: Resource | None
    ) -> Record:
        given = _text(record, "status", where)
        try:
            status = ServiceStatus((given or "").lower())
        except ValueError:
            status = ServiceStatus.INACTIVE
            self.warn(f"{where}: status {given!r} is not an HSDS status; imported as inactive")
        verified_on = _date(record, "assured_date", where)
        if verified_on is None:
            verified_on = _date(record, "last_modified", where)
            if verified_on is not None:
                self.warn(f"{where}: no assured_date; verified on its last_modified date")
            elif old is not None:
                verified_on = old.verified_on  # today would make it look newly checked
            else:
                verified_on = self.now.date()
                self.warn(f"{where}: no assured_date or last_modified; verified_on is today")
        verified_by = _text(record, "assurer_email", where)
        if verified_by is None:
            # Refuge exports a verifier that is no email address as none: keep the one known.
            verified_by = old.verified_by if old is not None else org.name
        return {
            "organization_id": org.id,
            "name": self.fit(name, NAME_LENGTH, where, "name"),
            "alternate_name": self.fit(
                _text(record, "alternate_name", where), NAME_LENGTH, where, "alternate_name"
            ),
            "description": _text(record, "description", where) or "",
            "url": self.link(record, "url", where, URL_LENGTH),
            "email": self.link(record, "email", where, NAME_LENGTH),
            "status": status,
            "verified_on": verified_on,
            "verified_by": self.fit(verified_by, NAME_LENGTH, where, "assurer_email"),
            "eligibility": _text(record, "eligibility_description", where),
            "fees": _text(record, "fees_description", where),
            "application_process": _text(record, "application_process", where),
            "source_locale": "en",
            "retired": False,
        }

    def service_at_location(self, record: Record, where: str) -> None:
        _identifier(record, where)
        nested = _object(record, "service", where)
        resource: Resource | None = None
        if nested is not None:
            inner = self.at(nested, f"{where}, service {nested.get('id')}")
            resource = self.service(nested, inner, None, merge=True)
        elif (service_id := _text(record, "service_id", where)) is not None:
            resource = self.resources.get(service_id) or self.session.get(
                Resource, self.refuge_id(Resource, "service", service_id)
            )
        if resource is None or resource.origin != ORIGIN:
            self.warn(f"{where}: names no service this import can change; skipped")
            self.report.count("location", "skipped")
            return
        if self.children(resource, {"service_at_locations": [record]}, where, merge=True):
            self.changed_resources.add(resource.id)

    # --- A service's phones, locations, schedules, languages and categories ------------------

    def children(self, resource: Resource, record: Record, where: str, *, merge: bool) -> bool:
        """Bring the resource's children in line with the record's; True when any changed."""
        sals = [
            (sal, self.at(sal, f"{where}, service_at_location {sal.get('id')}"))
            for sal in _objects(record, "service_at_locations", where) or []
        ]
        parts = [(record, where), *sals]
        changed = False
        if "service_at_locations" in record:
            wanted = self.locations(resource, sals)
            changed |= self.sync(resource.locations, wanted, Location, "location", merge)
        if any("phones" in part for part, _ in parts):
            phones: dict[str, Record] = {}
            for part, part_where in parts:
                for phone in _objects(part, "phones", part_where) or []:
                    inner = self.at(phone, f"{part_where}, phone {phone.get('id')}")
                    self.phone(resource, phone, inner, phones)
            changed |= self.sync(resource.phones, phones, Phone, "phone", merge)
        if any("schedules" in part for part, _ in parts):
            changed |= self.schedules(resource, parts, merge)
        if "languages" in record:
            codes = self.languages(_objects(record, "languages", where) or [], where)
            current = {entry.code: entry for entry in resource.languages}
            changed |= self.sync_set(resource.languages, current, codes, "language", merge)
        if "attributes" in record:
            wanted_categories = self.categories(_objects(record, "attributes", where) or [], where)
            have = {entry.category: entry for entry in resource.categories}
            changed |= self.sync_set(
                resource.categories, have, wanted_categories, "category", merge
            )
        return changed

    def sync(
        self,
        items: list[_Child],
        wanted: dict[str, Record],
        model: type[_Child],
        kind: str,
        merge: bool,
    ) -> bool:
        current = {item.id: item for item in items}
        changed = False
        for key, values in wanted.items():
            if key not in current:
                items.append(model(id=key, **values))
                outcome = "created"
            else:
                outcome = "updated" if _assign(current[key], values) else "unchanged"
            changed = changed or outcome != "unchanged"
            self.report.count(kind, outcome)
        for key, item in current.items():
            if key not in wanted and not merge:
                items.remove(item)
                self.report.count(kind, "removed")
                changed = True
        return changed

    def sync_set(
        self, items: list[Any], current: dict[Any, Any], wanted: set[Any], kind: str, merge: bool
    ) -> bool:
        added = sorted(wanted - current.keys(), key=str)
        removed = [] if merge else [current[key] for key in current.keys() - wanted]
        for key in added:
            items.append(
                ResourceLanguage(code=key) if kind == "language" else ResourceCategory(category=key)
            )
            self.report.count(kind, "created")
        for item in removed:
            items.remove(item)
            self.report.count(kind, "removed")
        for _ in wanted & current.keys():
            self.report.count(kind, "unchanged")
        return bool(added or removed)

    def locations(self, resource: Resource, sals: list[tuple[Record, str]]) -> dict[str, Record]:
        exported = {hsds_id("service_at_location", loc.id): loc for loc in resource.locations}
        wanted: dict[str, Record] = {}
        for sal, where in sals:
            self.check("service_at_location", sal)
            sal_id = _identifier(sal, where)
            location = _object(sal, "location", where)
            known = exported.get(sal_id)
            values = None
            if location is not None:
                inner = self.at(location, f"{where}, location {location.get('id')}")
                values = self.place(location, inner)
            else:
                self.warn(f"{where}: names no location this import has; skipped")
            # Refuge's export hides a confidential place; its placeholder must not erase it.
            if known is not None and known.confidential and _placeholder(values):
                values = {"name": known.name, "address": known.address, "city": known.city}
            if values is None:
                self.report.count("location", "skipped")
            else:
                key = known.id if known is not None else derived_id("location", resource.id, sal_id)
                wanted[key] = values
        return wanted

    def schedules(self, resource: Resource, parts: list[tuple[Record, str]], merge: bool) -> bool:
        wanted: list[tuple[str, time | None, time | None, str | None]] = []
        seen: set[str] = set()
        for part, part_where in parts:
            for record in _objects(part, "schedules", part_where) or []:
                where = self.at(record, f"{part_where}, schedule {record.get('id')}")
                self.check("schedule", record)
                if (schedule_id := _identifier(record, where)) not in seen:
                    seen.add(schedule_id)
                    entry = self.schedule(record, where)
                    if entry is not None and entry not in wanted:
                        wanted.append(entry)
        changed = False
        for schedule in list(resource.schedules):
            key = (schedule.byday, schedule.opens_at, schedule.closes_at, schedule.description)
            if key in wanted:
                wanted.remove(key)
                self.report.count("schedule", "unchanged")
            elif not merge:
                resource.schedules.remove(schedule)
                self.report.count("schedule", "removed")
                changed = True
        for byday, opens_at, closes_at, description in wanted:
            resource.schedules.append(
                Schedule(
                    byday=byday, opens_at=opens_at, closes_at=closes_at, description=description
                )
            )
            self.report.count("schedule", "created")
            changed = True
        return changed
