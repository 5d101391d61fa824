"""The about page's facts: who runs this instance, who keeps its content, and the technical
privacy document (server/privacy.md), shown on a page of its own that the about page links to."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.models.content import Organization
from server.resources import shipped

PRIVACY_DOCUMENT = shipped("privacy.md")
#: The privacy document is a few tables and lists: nothing in it loads or runs.
TAGS = frozenset(
    {"h1", "h2", "h3", "p", "ul", "ol", "li", "strong", "em", "code", "br"}
    | {"table", "thead", "tbody", "tr", "th", "td"}
)
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def operator(settings: Settings) -> str:
    """Who runs this instance: `REFUGE_OPERATOR_NAME`, or else the host of its public address."""
    if settings.operator_name:
        return settings.operator_name
    return urlsplit(settings.public_url).hostname or settings.public_url


def organizations(session: Session) -> list[str]:
    """The organisations whose content this instance shows, by name."""
    return list(
        session.scalars(
            select(Organization.name)
            .where(Organization.retired.is_(False))
            .order_by(Organization.name)
        )
    )


@functools.lru_cache(maxsize=1)
def privacy_html(path: Path = PRIVACY_DOCUMENT) -> str | None:
    """The privacy document as sanitised HTML (links become text), or None when not shipped."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError:
        return None
    # Heading levels move down one: the page has its own h1.
    html = _markdown.render(source).replace("<h2>", "<h3>").replace("</h2>", "</h3>")
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(html, tags=set(TAGS) | {"h2"}, attributes={}, strip_comments=True)
    # Wide tables scroll sideways on a phone; the keyboard must be able to scroll them too.
    return clean.replace("<table>", '<div class="wide" tabindex="0"><table>').replace(
        "</table>", "</table></div>"
    )
