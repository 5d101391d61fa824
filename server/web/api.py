"""The JSON API, /api/v1: the public content for partners' apps and directory aggregators.

Read-only and open to any origin (CORS), localized by `?locale=` or Accept-Language, limited
per client without keeping addresses (see `ratelimit`), and described by /api/v1/openapi.json.
Errors are `{"error": {"code": ..., "message": ...}}` with codes that never change.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from server.config import app_settings
from server.content.hsds_export import service_record
from server.content.items import BulletinItem, ChecklistItem, ResourceItem, ScopeItem
from server.content.public import Shelf
from server.db import request_session
from server.i18n.locales import choose_locale, negotiate, text_direction, url_tag
from server.models.content import Category
from server.web import caching, openapi
from server.web.inputs import BadNumber, has_nul, query_number
from server.web.ratelimit import RateLimiter

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

LIMITER_EXTENSION = "refuge.api_limiter"
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 10_000
MAX_TEXT = 100
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept-Language, If-None-Match, If-Modified-Since",
    "Access-Control-Expose-Headers": "ETag, Retry-After",
    "Access-Control-Max-Age": "86400",
}


class ApiError(Exception):
    """A request the API refuses: HTTP status, a stable code and a sentence for developers."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def init_app(app: Flask) -> None:
    """Register the API with a fresh per-process limiter."""
    app.extensions[LIMITER_EXTENSION] = RateLimiter()
    app.register_blueprint(blueprint)


@blueprint.errorhandler(ApiError)
def _refused(error: ApiError) -> tuple[Response, int]:
    return jsonify(error={"code": error.code, "message": error.message}), error.status


@blueprint.before_request
def _limit_and_localize() -> None:
    """Refuse a client over its limit; pick the content language for this request."""
    limiter: RateLimiter = current_app.extensions[LIMITER_EXTENSION]
    wait = limiter.hit(request.remote_addr or "")
    if wait is not None:
        g.retry_after = math.ceil(wait)
        raise ApiError(429, "rate_limited", "Too many requests; retry after the Retry-After time.")
    if has_nul():
        raise ApiError(400, "bad_parameter", "Parameters cannot contain NUL characters.")
    served = app_settings().localization.locales
    asked = request.args.get("locale")
    if asked is not None:
        chosen = negotiate([asked[:MAX_TEXT]], served)
        if chosen is None:
            raise ApiError(400, "unknown_locale", "locale is not one this instance serves.")
        g.api_locale = chosen
    else:
        g.api_locale = choose_locale(
            served, accept=[tag for tag, _quality in request.accept_languages]
        )


@blueprint.after_request
def _cors(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    if "retry_after" in g and response.status_code == 429:
        response.headers["Retry-After"] = str(g.retry_after)
    if response.status_code >= 400:
        response.headers["Content-Language"] = "en"
    return response


def _shelf() -> Shelf:
    return Shelf(request_session(), app_settings().localization, g.api_locale, caching.now())


def _int(name: str, default: int, most: int) -> int:
    try:
        return query_number(name, default, most)
    except BadNumber as exc:
        raise ApiError(400, "bad_parameter", str(exc)) from None


def _modified_after() -> datetime | None:
    raw = request.args.get("modified_after")
    if raw is None:
        return None
    try:
        # ASCII only: the parser reads digits of other scripts as a date nobody wrote.
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw.isascii() else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiError(
            400, "bad_parameter", "modified_after must be an RFC 3339 date-time with an offset."
        )
    return moment.astimezone(UTC)


def _region_id(shelf: Shelf) -> int | None:
    slug = request.args.get("region")
    if slug is None:
        return None
    found = shelf.region_id(slug[:MAX_TEXT])
    if found is None:
        raise ApiError(404, "unknown_region", "No region has this slug.")
    return found


def _category() -> Category | None:
    raw = request.args.get("category")
    if raw is None:
        return None
    try:
        return Category(raw)
    except ValueError:
        raise ApiError(
            400, "bad_parameter", "category is not one of the documented codes."
        ) from None


def _when(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value.isoformat()


def scope_json(scope: ScopeItem | None) -> dict[str, Any] | None:
    """Where an item shown for the requested region applies (None without a region)."""
    if scope is None:
        return None
    return {"region": scope.region, "name": scope.name, "distance": scope.distance}


def resource_json(item: ResourceItem) -> dict[str, Any]:
    """A resource as the API shows it; a confidential place is only its call-first phone."""
    places = [
        {"confidential": True, "call_first_phone": place.call_first_phone}
        if place.confidential
        else {key: value for key, value in asdict(place).items() if value is not None}
        for place in item.places
    ]
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "locale": url_tag(item.locale),
        "organization": item.organization,
        "region": item.region,
        "categories": list(item.categories),
        "languages": list(item.languages),
        "phones": [asdict(phone) for phone in item.phones],
        "locations": places,
        "url": item.url,
        "status": item.status,
        "verified_on": _when(item.verified_on),
        "verified_by": item.verified_by,
        "review_due_on": _when(item.review_due_on),
        "stale": item.stale,
        "updated_at": _when(item.updated_at),
        "scope": scope_json(item.scope),
        "hours": [
            {
                "days": list(each.days),
                "opens": each.opens.strftime("%H:%M") if each.opens else None,
                "closes": each.closes.strftime("%H:%M") if each.closes else None,
            }
            for each in item.hours
        ],
        "eligibility": item.eligibility.text if item.eligibility else None,
        "fees": item.fees.text if item.fees else None,
        "application_process": (
            item.application_process.text if item.application_process else None
        ),
    }


def bulletin_json(item: BulletinItem) -> dict[str, Any]:
    """A current bulletin; the body is sanitised HTML."""
    return {
        "id": item.id,
        "kind": item.kind,
        "severity": item.severity,
        "title": item.title,
        "body_html": item.body_html,
        "instruction_html": item.instruction_html or None,
        "contact": item.contact,
        "locale": url_tag(item.locale),
        "source": {"name": item.source_name, "url": item.source_url},
        "issued_at": _when(item.issued_at),
        "expires_at": _when(item.expires_at),
        "regions": list(item.regions),
        "updated_at": _when(item.updated_at),
        "scope": scope_json(item.scope),
    }


def checklist_json(item: ChecklistItem, with_steps: bool) -> dict[str, Any]:
    """A checklist, with its steps when asked for one."""
    data: dict[str, Any] = {
        "slug": item.slug,
        "title": item.title,
        "summary": item.summary,
        "locale": url_tag(item.locale),
        "platform": item.platform,
        "platform_version": item.platform_version,
        "reviewed_on": _when(item.reviewed_on),
        "step_count": item.step_count,
        "updated_at": _when(item.updated_at),
    }
    if with_steps:
        data["steps"] = [asdict(step) for step in item.steps]
    return data


@blueprint.get("/openapi.json")
@caching.public
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return caching.api_json(openapi.document(app_settings()))


@blueprint.get("/locales")
@caching.public
def locales() -> Response:
    """The languages this instance serves, with their text direction."""
    scripts = dict(app_settings().localization.scripts)
    items = [
        {"code": url_tag(code), "direction": text_direction(code, scripts)}
        for code in app_settings().localization.locales
    ]
    return caching.api_json({"locale": url_tag(g.api_locale), "items": items})


@blueprint.get("/regions")
@caching.public
def regions() -> Response:
    """Every current region, parents first, named in the requested language."""
    items = [
        {
            "slug": r.slug,
            "name": r.name,
            "kind": r.kind,
            "parent": r.parent,
            "emergency": r.emergency,
        }
        for r in _shelf().regions()
    ]
    return caching.api_json({"locale": url_tag(g.api_locale), "items": items})


@blueprint.get("/resources")
@caching.public
def resources() -> Response:
    """Resources that may be shown, filtered and paged; words that name a place within the
    requested region (or anywhere, without one) search there, and `searched_in` says where."""
    shelf = _shelf()
    page = _int("page", 1, MAX_PAGE)
    per_page = _int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    text = request.args.get("q", "")[:MAX_TEXT]
    region_id = _region_id(shelf)
    slug = request.args.get("region") if region_id is not None else None
    place = shelf.named_place(text, slug) if text else None
    if place is not None:
        slug, text, region_id = place.slug, place.rest, shelf.region_id(place.slug)
    found = shelf.find_resources(
        text=text,
        region_id=region_id,
        category=_category(),
        modified_after=_modified_after(),
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    return caching.api_json(
        {
            "locale": url_tag(g.api_locale),
            "page": page,
            "per_page": per_page,
            "total": found.total,
            "searched_in": _searched_in(shelf, slug),
            "items": [resource_json(item) for item in found.items],
        }
    )


def _searched_in(shelf: Shelf, slug: str | None) -> dict[str, Any] | None:
    """The region a search looked in (with those within it and above it), named."""
    named = next((r for r in shelf.regions() if r.slug == slug), None) if slug else None
    return {"region": named.slug, "name": named.name} if named is not None else None


@blueprint.get("/resources/<resource_id>")
@caching.public
def resource(resource_id: str) -> Response:
    """One resource, when it may be shown; with `region`, where it applies there."""
    shelf = _shelf()
    item = shelf.resource(resource_id[:MAX_TEXT], _region_id(shelf))
    if item is None:
        raise ApiError(404, "not_found", "No resource with this id is shown.")
    return caching.api_json(resource_json(item))


@blueprint.get("/bulletins")
@caching.public
def bulletins() -> Response:
    """Bulletins in force now, for one region (and those above it) or all."""
    shelf = _shelf()
    region = request.args.get("region")
    if region is not None:
        _region_id(shelf)
    items = shelf.bulletins(region)
    return caching.api_json(
        {"locale": url_tag(g.api_locale), "items": [bulletin_json(item) for item in items]}
    )


@blueprint.get("/checklists")
@caching.public
def checklists() -> Response:
    """Every current checklist, without steps."""
    items = [checklist_json(item, with_steps=False) for item in _shelf().checklists()]
    return caching.api_json({"locale": url_tag(g.api_locale), "items": items})


@blueprint.get("/checklists/<slug>")
@caching.public
def checklist(slug: str) -> Response:
    """One checklist with its steps."""
    item = _shelf().checklist(slug[:MAX_TEXT])
    if item is None:
        raise ApiError(404, "not_found", "No checklist with this slug.")
    return caching.api_json(checklist_json(item, with_steps=True))


@blueprint.get("/hsds/services")
@caching.public
def hsds_services() -> Response:
    """The shown resources as HSDS 3.0 services, in an HSDS page."""
    page = _int("page", 1, MAX_PAGE)
    per_page = _int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    rows, total = _shelf().resource_rows(
        modified_after=_modified_after(), offset=(page - 1) * per_page, limit=per_page
    )
    pages = max(math.ceil(total / per_page), 1)
    return caching.api_json(
        {
            "total_items": total,
            "total_pages": pages,
            "page_number": page,
            "size": len(rows),
            "first_page": page == 1,
            "last_page": page >= pages,
            "empty": not rows,
            "contents": [service_record(row) for row in rows],
        }
    )
