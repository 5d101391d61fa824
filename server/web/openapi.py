"""The OpenAPI 3.1 document of /api/v1: written as data, checked against real responses in tests."""

from __future__ import annotations

from typing import Any

from server.config import Settings
from server.models.bulletins import BulletinKind, Severity
from server.models.content import Category, PhoneKind, RegionKind, ServiceStatus

Schema = dict[str, Any]


def _obj(required: list[str], properties: Schema, extra: bool = False) -> Schema:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": extra,
    }


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(name: str) -> Schema:
    return _obj(
        ["locale", "items"],
        {"locale": _ref("Locale"), "items": {"type": "array", "items": _ref(name)}},
    )


STRING = {"type": "string"}
TEXT_OR_NULL = {"type": ["string", "null"]}
DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
DATE_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}

SCOPE: Schema = {
    "description": (
        "Where the item applies, seen from the requested region (null without one): the "
        "region it comes from and its distance in the region tree. 0: the requested region "
        "itself; 1, 2, ...: the regions above it (its area, its country), whose items apply to "
        "all of them (shown as 'For all of ...'); -1, -2, ...: a region within the requested "
        "one. Lists give the nearest first: the region and those within it, then each region "
        "above it."
    ),
    "oneOf": [
        {"type": "null"},
        _obj(
            ["region", "name", "distance"],
            {
                "region": {"type": "string", "description": "The region's slug."},
                "name": {"type": "string", "description": "Its name in the response's locale."},
                "distance": {"type": "integer"},
            },
        ),
    ],
}

SCHEMAS: Schema = {
    "Locale": {"type": "string", "description": "A BCP 47 tag, e.g. en, ar, rhg."},
    "Error": _obj(
        ["error"],
        {"error": _obj(["code", "message"], {"code": STRING, "message": STRING})},
    ),
    "LocaleInfo": _obj(
        ["code", "direction"], {"code": STRING, "direction": {"enum": ["ltr", "rtl"]}}
    ),
    "Region": _obj(
        ["slug", "name", "kind", "parent", "emergency"],
        {
            "slug": STRING,
            "name": STRING,
            "kind": {"enum": [kind.value for kind in RegionKind]},
            "parent": TEXT_OR_NULL,
            "emergency": {
                **TEXT_OR_NULL,
                "description": "The number to call in an emergency here: the region's own, "
                "or the nearest region's above it (null: none known).",
            },
        },
    ),
    "Phone": _obj(
        ["number", "kind", "description"],
        {
            "number": STRING,
            "kind": {"enum": [kind.value for kind in PhoneKind]},
            "description": TEXT_OR_NULL,
        },
    ),
    "Location": {
        "description": "A place; a confidential one carries only the number to call first.",
        "oneOf": [
            _obj(
                ["confidential", "call_first_phone"],
                {"confidential": {"const": True}, "call_first_phone": TEXT_OR_NULL},
            ),
            _obj(
                ["confidential"],
                {
                    "confidential": {"const": False},
                    "name": STRING,
                    "address": STRING,
                    "city": STRING,
                    "latitude": {"type": "number"},
                    "longitude": {"type": "number"},
                    "call_first_phone": STRING,
                },
            ),
        ],
    },
    "Resource": _obj(
        [
            "id",
            "name",
            "description",
            "locale",
            "organization",
            "region",
            "categories",
            "languages",
            "phones",
            "locations",
            "url",
            "status",
            "verified_on",
            "verified_by",
            "review_due_on",
            "stale",
            "updated_at",
            "scope",
            "hours",
            "eligibility",
            "fees",
            "application_process",
        ],
        {
            "id": STRING,
            "name": STRING,
            "description": STRING,
            "locale": _ref("Locale"),
            "organization": STRING,
            "region": {"type": "string", "description": "The region's slug."},
            "categories": {
                "type": "array",
                "items": {"enum": [category.value for category in Category]},
            },
            "languages": {"type": "array", "items": STRING},
            "phones": {"type": "array", "items": _ref("Phone")},
            "locations": {"type": "array", "items": _ref("Location")},
            "url": TEXT_OR_NULL,
            "status": {"enum": [status.value for status in ServiceStatus]},
            "verified_on": DATE,
            "verified_by": STRING,
            "review_due_on": DATE,
            "stale": {
                "type": "boolean",
                "description": "Past its review date: shown, but say it may be out of date.",
            },
            "updated_at": DATE_TIME,
            "scope": SCOPE,
            "hours": {
                "type": "array",
                "description": "Opening hours: RFC 5545 day codes (MO...SU), HH:MM or null.",
                "items": _obj(
                    ["days", "opens", "closes"],
                    {
                        "days": {"type": "array", "items": STRING},
                        "opens": TEXT_OR_NULL,
                        "closes": TEXT_OR_NULL,
                    },
                ),
            },
            "eligibility": {**TEXT_OR_NULL, "description": "Who the service is for."},
            "fees": {**TEXT_OR_NULL, "description": "What it costs, if anything."},
            "application_process": {**TEXT_OR_NULL, "description": "How to ask for it."},
        },
    ),
    "ResourcePage": _obj(
        ["locale", "page", "per_page", "total", "items"],
        {
            "locale": _ref("Locale"),
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
            "searched_in": {
                "oneOf": [
                    _obj(["region", "name"], {"region": STRING, "name": STRING}),
                    {"type": "null"},
                ],
                "description": "The region searched (with those within and above it): the "
                "`region` asked for, or a place named in `q`; null: everywhere.",
            },
            "items": {"type": "array", "items": _ref("Resource")},
        },
    ),
    "Bulletin": _obj(
        [
            "id",
            "kind",
            "severity",
            "title",
            "body_html",
            "instruction_html",
            "contact",
            "locale",
            "source",
            "issued_at",
            "expires_at",
            "regions",
            "updated_at",
            "scope",
        ],
        {
            "id": STRING,
            "kind": {"enum": [kind.value for kind in BulletinKind]},
            "severity": {"enum": [severity.value for severity in Severity]},
            "title": STRING,
            "body_html": {"type": "string", "description": "Sanitised HTML."},
            "instruction_html": {
                **TEXT_OR_NULL,
                "description": "What to do (CAP instruction), sanitised HTML.",
            },
            "contact": {**TEXT_OR_NULL, "description": "Whom to ask for more (CAP contact)."},
            "locale": _ref("Locale"),
            "source": _obj(["name", "url"], {"name": STRING, "url": TEXT_OR_NULL}),
            "issued_at": DATE_TIME,
            "expires_at": DATE_TIME_OR_NULL,
            "regions": {"type": "array", "items": STRING},
            "updated_at": DATE_TIME,
            "scope": SCOPE,
        },
    ),
    "Step": _obj(
        ["id", "position", "title", "body_html"],
        {"id": STRING, "position": {"type": "integer"}, "title": STRING, "body_html": STRING},
    ),
    "Checklist": _obj(
        [
            "slug",
            "title",
            "summary",
            "locale",
            "platform",
            "platform_version",
            "reviewed_on",
            "step_count",
            "updated_at",
        ],
        {
            "slug": STRING,
            "title": STRING,
            "summary": STRING,
            "locale": _ref("Locale"),
            "platform": STRING,
            "platform_version": STRING,
            "reviewed_on": DATE,
            "step_count": {"type": "integer", "minimum": 0},
            "updated_at": DATE_TIME,
            "steps": {"type": "array", "items": _ref("Step")},
        },
    ),
    "HsdsServicePage": _obj(
        [
            "total_items",
            "total_pages",
            "page_number",
            "size",
            "first_page",
            "last_page",
            "empty",
            "contents",
        ],
        {
            "total_items": {"type": "integer"},
            "total_pages": {"type": "integer"},
            "page_number": {"type": "integer"},
            "size": {"type": "integer"},
            "first_page": {"type": "boolean"},
            "last_page": {"type": "boolean"},
            "empty": {"type": "boolean"},
            "contents": {
                "type": "array",
                "description": "HSDS 3.0 services, fully nested (schema/compiled/service.json).",
                "items": _obj(["id", "name", "status"], {}, extra=True),
            },
        },
    ),
}


#: Every string parameter: the API refuses NUL characters (400 bad_parameter), so says so.
NO_NUL = "^[^\\u0000]*$"


def _param(name: str, schema: Schema, description: str, where: str = "query") -> Schema:
    if schema.get("type") == "string":
        schema = {**schema, "pattern": NO_NUL}
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


PAGE = _param("page", {"type": "integer", "minimum": 1, "maximum": 10000}, "Page, from 1.")
PER_PAGE = _param(
    "per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Items per page (20)."
)
MODIFIED_AFTER = _param(
    "modified_after",
    {"type": "string", "format": "date-time"},
    "Only resources changed after this moment (RFC 3339 with an offset).",
)
REGION = _param(
    "region",
    {"type": "string", "maxLength": 64},
    "A region's slug: what applies there, its own first, then its area's and its country's "
    "(each item's scope says where it applies).",
)


def _responses(schema: str, not_found: bool = False) -> Schema:
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
    responses: Schema = {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": _ref(schema)}},
        },
        "304": {"description": "Not modified since the ETag or Last-Modified the client has."},
        "400": {"description": "A parameter is malformed.", **error},
        "429": {"description": "Too many requests from this client.", **error},
    }
    if not_found:
        responses["404"] = {"description": "Not found.", **error}
    return responses


def _get(
    summary: str, schema: str, params: list[Schema], locales: list[str], not_found: bool = False
) -> Schema:
    locale = _param(
        "locale",
        {"enum": locales},
        "Content language; overrides Accept-Language. Regional tags (ar-SD) are understood.",
    )
    return {
        "get": {
            "summary": summary,
            "parameters": [locale, *params],
            "responses": _responses(schema, not_found),
        }
    }


def document(settings: Settings) -> Schema:
    """The OpenAPI 3.1 document, with this instance's public address as its server."""
    tags = [code.replace("_", "-") for code in settings.localization.locales]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Refuge API",
            "version": "1.0.0",
            "description": (
                "Verified crisis resources, current bulletins and account-security "
                "checklists. Read-only, no authentication, no personal data. Errors carry a "
                "stable code. Confidential locations never include an address or coordinates."
            ),
        },
        "servers": [{"url": settings.public_url + "/api/v1"}],
        "paths": {
            "/locales": _get("Languages served", "LocaleList", [], tags),
            "/regions": _get("Regions", "RegionList", [], tags),
            "/resources": _get(
                "Resources that may be shown",
                "ResourcePage",
                [
                    REGION,
                    _param("category", {"enum": [c.value for c in Category]}, "Kind of help."),
                    _param(
                        "q",
                        {"type": "string", "maxLength": 100},
                        "Words to look for; a place named in them (within `region`, if "
                        "given) is searched instead of `region`.",
                    ),
                    MODIFIED_AFTER,
                    PAGE,
                    PER_PAGE,
                ],
                tags,
                not_found=True,
            ),
            "/resources/{id}": _get(
                "One resource",
                "Resource",
                [
                    _param("id", {"type": "string", "maxLength": 64}, "Resource id.", "path"),
                    _param(
                        "region",
                        {"type": "string", "maxLength": 64},
                        "A region's slug: the scope says where the resource applies there.",
                    ),
                ],
                tags,
                not_found=True,
            ),
            "/bulletins": _get(
                "Bulletins in force", "BulletinList", [REGION], tags, not_found=True
            ),
            "/checklists": _get("Account-security checklists", "ChecklistList", [], tags),
            "/checklists/{slug}": _get(
                "One checklist with its steps",
                "Checklist",
                [_param("slug", {"type": "string", "maxLength": 64}, "Checklist.", "path")],
                tags,
                not_found=True,
            ),
            "/hsds/services": _get(
                "Resources as HSDS 3.0 services",
                "HsdsServicePage",
                [MODIFIED_AFTER, PAGE, PER_PAGE],
                tags,
            ),
        },
        "components": {
            "schemas": {
                **SCHEMAS,
                "LocaleList": _list_of("LocaleInfo"),
                "RegionList": _list_of("Region"),
                "BulletinList": _list_of("Bulletin"),
                "ChecklistList": _list_of("Checklist"),
            }
        },
    }
