"""The public pages: mobile-first HTML under /<locale>/, light enough for 2G, no JavaScript needed.

Every page is rendered on the server from `server.content.public`, so what a page may show is
decided in one place for the web and the API alike. Nothing a person chooses here is stored:
filters live in the URL, checklist progress in their own browser.
"""

from __future__ import annotations

import functools
import re

from babel import Locale
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response as BaseResponse

from server.config import app_settings
from server.content.items import OpeningHours, RegionItem, ScopeItem
from server.content.labels import CATEGORY_NAMES, scope_label
from server.content.public import Shelf
from server.conversation import items
from server.db import request_session
from server.i18n.locales import DEFAULT_LOCALE, choose_locale, parse_tag, url_tag
from server.i18n.web import available_locales
from server.models.content import Category
from server.scripts import date_locale
from server.web import about, caching, text
from server.web.inputs import BadNumber, has_nul, query_number

blueprint = Blueprint("public", __name__)

PAGE_SIZE = 15
MAX_QUERY = 100
MAX_PAGE = 1000
#: Where the quick exit lands: a busy, ordinary site that looks like any other visit.
NEUTRAL_URL = "https://www.google.com/search?q=weather"


def shelf() -> Shelf:
    """Public content in this request's language, as of now."""
    return Shelf(request_session(), app_settings().localization, g.locale, caching.now())


def init_app(app: Flask) -> None:
    """Register the pages; only the locales this instance serves exist as URL prefixes."""
    served = sorted((url_tag(code) for code in available_locales(app)), key=len, reverse=True)

    class LocaleConverter(BaseConverter):
        regex = "(?:" + "|".join(re.escape(tag) for tag in served) + ")"

    app.url_map.converters["locale"] = LocaleConverter
    caching.init_app(app)
    app.jinja_env.globals["applies"] = applies  # a global: the macros of `_resource.html` use it
    app.register_blueprint(blueprint)


@blueprint.before_request
def _refuse_nul() -> None:
    if has_nul():
        abort(400)


@blueprint.url_defaults
def _same_locale(endpoint: str, values: dict[str, object]) -> None:
    """Links between public pages stay in the reader's language unless they say otherwise."""
    if "locale" not in values and current_app.url_map.is_endpoint_expecting(endpoint, "locale"):
        values["locale"] = url_tag(g.get("locale", DEFAULT_LOCALE))


@blueprint.app_context_processor
def _page_globals() -> dict[str, object]:
    """What every public page needs: the language switcher, names and the locale's URL tag."""
    return {
        "languages": language_names(),
        "here": url_tag(g.get("locale", DEFAULT_LOCALE)),
        "category_names": {code.value: _(name) for code, name in CATEGORY_NAMES.items()},
        "text": text,
    }


def applies(scope: ScopeItem | None) -> str:
    """Where an item shown for the chosen place applies, when wider or narrower ("" if not)."""
    return scope_label(_, scope.distance, scope.name) if scope is not None else ""


@blueprint.app_template_filter("language_name")
def _language_name(code: str) -> str:
    """A language a resource speaks, named in the reader's language (CLDR), not as a code."""
    return items.language_name(code, _names_locale())


@blueprint.app_template_filter("opening_hours")
def _opening_hours(hours: tuple[OpeningHours, ...]) -> str:
    """A resource's opening hours in the reader's language."""
    return items.opening_hours(_names_locale(), hours)


def _names_locale() -> str:
    """Whose CLDR names (days, languages) a page shows: the reader's, or English where its
    readers write in another script than CLDR's (Rohingya in Latin letters)."""
    locale = g.get("locale", DEFAULT_LOCALE)
    return date_locale(locale, dict(app_settings().localization.scripts))


def language_names() -> list[tuple[str, str]]:
    """Every served language as (URL tag, its name in itself)."""
    localization = app_settings().localization
    return _names(localization.locales, localization.scripts)


@functools.lru_cache(maxsize=8)
def _names(locales: tuple[str, ...], scripts: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    names = []
    for code in locales:
        locale = parse_tag(code)
        if locale is None:
            continue
        if code in dict(scripts):
            # Written in another script than CLDR's default (Rohingya in Latin letters): CLDR
            # would name it in the script its readers do not use, so it is named in English.
            name = Locale("en").languages.get(locale.language)
        else:
            name = locale.get_display_name(locale)
        names.append((url_tag(code), str(name or code)))
    return names


@blueprint.get("/")
def start() -> BaseResponse:
    """Send the browser to the language it asks for (no cookie is needed or set)."""
    locale = choose_locale(
        app_settings().localization.locales,
        accept=[tag for tag, _quality in request.accept_languages],
    )
    response = redirect(url_for("public.home", locale=url_tag(locale)), 302)
    response.headers["Vary"] = "Accept-Language"
    return response


@blueprint.get("/exit")
def quick_exit() -> BaseResponse:
    """Leave for a neutral site, asking the browser to forget this one."""
    response = redirect(NEUTRAL_URL, 303)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@blueprint.get("/<locale:locale>/")
@caching.public
def home(locale: str) -> Response:
    """What Refuge offers here, and the regions to choose from."""
    return caching.page("public/home.html", regions=shelf().regions())


def _category() -> Category | None:
    raw = request.args.get("category", "")
    if not raw:
        return None
    try:
        return Category(raw)
    except ValueError:
        abort(400)


def _page_number() -> int:
    try:
        return query_number("page", 1, MAX_PAGE)
    except BadNumber:
        abort(400)


@blueprint.get("/<locale:locale>/resources")
@caching.public
def resources(locale: str) -> Response:
    """Resources, filtered by region, category and words; each with how to reach it.

    Words that name a place within the chosen area (or anywhere, with none chosen) search
    there: "shelter Kharkiv" is shelter in Kharkiv.
    """
    content = shelf()
    query = request.args.get("q", "")[:MAX_QUERY]
    region = request.args.get("region", "")
    region_id = content.region_id(region) if region else None
    if region and region_id is None:
        abort(404)
    words = query
    place = content.named_place(query, region or None) if query else None
    if place is not None:
        region, words = place.slug, place.rest
        region_id = content.region_id(region)
    category, number = _category(), _page_number()
    regions = content.regions()
    found = content.find_resources(
        text=words,
        region_id=region_id,
        category=category,
        offset=(number - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    return caching.page(
        "public/resources.html",
        found=found,
        regions=regions,
        region=region,
        place=next((each for each in regions if each.slug == region), None),
        category=category.value if category else "",
        query=query,
        number=number,
        more=found.total > number * PAGE_SIZE,
    )


@blueprint.get("/<locale:locale>/resources/<resource_id>")
@caching.public
def resource(locale: str, resource_id: str) -> Response:
    """One resource in full; reached from a place's list (`?region=`), where it applies there."""
    content = shelf()
    region = request.args.get("region", "")
    region_id = content.region_id(region) if region else None
    if region and region_id is None:
        abort(404)
    item = content.resource(resource_id[:128], region_id)
    if item is None:
        abort(404)
    # The number to call where the person is looking (else where the resource is).
    return caching.page("public/resource.html", item=item, place=_region(region or item.region))


@blueprint.get("/<locale:locale>/info")
@caching.public
def info(locale: str) -> Response:
    """Bulletins in force, from named sources; context notes answer rumours."""
    content = shelf()
    region = request.args.get("region", "")
    if region and content.region_id(region) is None:
        abort(404)
    items = content.bulletins(region or None)
    regions = content.regions()
    return caching.page(
        "public/info.html",
        alerts=[item for item in items if item.kind != "context"],
        notes=[item for item in items if item.kind == "context"],
        regions=regions,
        region=region,
        place=next((each for each in regions if each.slug == region), None),
    )


def _region(slug: str) -> RegionItem | None:
    """A region as the area list shows it (its name, its emergency number), by slug."""
    return next((each for each in shelf().regions() if each.slug == slug), None)


@blueprint.get("/<locale:locale>/secure")
@caching.public
def secure(locale: str) -> Response:
    """The account-security checklists."""
    return caching.page("public/secure.html", checklists=shelf().checklists())


@blueprint.get("/<locale:locale>/secure/<slug>")
@caching.public
def checklist(locale: str, slug: str) -> Response:
    """One checklist; ticks are kept in this browser only."""
    item = shelf().checklist(slug[:128])
    if item is None:
        abort(404)
    return caching.page("public/checklist.html", item=item)


@blueprint.get("/<locale:locale>/about")
@caching.public
def about_page(locale: str) -> Response:
    """Who runs this instance, what it keeps, how to erase it, in the reader's language."""
    settings = app_settings()
    return caching.page(
        "public/about.html",
        operator=about.operator(settings),
        operator_named=bool(settings.operator_name),
        organizations=about.organizations(request_session()),
        technical=about.privacy_html() is not None,
        retention_days=settings.retention.inactive_subscriber_days,
    )


@blueprint.get("/<locale:locale>/about/privacy")
@caching.public
def privacy_page(locale: str) -> Response:
    """The technical privacy document (server/privacy.md), in English, as shipped."""
    document = about.privacy_html()
    if document is None:
        abort(404)
    return caching.page("public/privacy.html", privacy=document)
