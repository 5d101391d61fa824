"""Markdown for bulletins and checklist steps: rendered, then sanitised to a small safe subset."""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

#: What a rendered body may contain: text structure and links, nothing that runs or loads.
ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "ul",
        "ol",
        "li",
        "a",
        "h2",
        "h3",
        "h4",
        "blockquote",
        "code",
        "pre",
    }
)
ALLOWED_ATTRIBUTES = {"a": frozenset({"href"})}
ALLOWED_SCHEMES = frozenset({"https", "tel", "mailto"})

# CommonMark with raw HTML off: HTML in the source is shown as text, never interpreted.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render(source: str) -> str:
    """Markdown to sanitised HTML, safe to place in a page as is."""
    html = _markdown.render(source)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def plain_text(source: str) -> str:
    """The words of a Markdown text without markup, for SMS and search."""
    return html.unescape(nh3.clean(render(source), tags=set())).strip()
