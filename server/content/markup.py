"""Markdown for bulletins and checklist steps: rendered, then sanitised to a small safe subset."""

from __future__ import annotations

import html
import re

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


#: A link as `render` writes it: its target and its words.
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.S)


def _spelled_out(link: re.Match[str]) -> str:
    """A link's words, then its target when the words do not already say it: by SMS,
    "Call [the line](tel:+447700900123)" must still give the number to call."""
    target, words = html.unescape(link[1]), link[2]
    said = html.unescape(nh3.clean(words, tags=set()))
    if target.startswith("tel:"):
        shown = target.removeprefix("tel:")
        digits = re.sub(r"\D", "", shown)  # "+1 202 555 0119" says tel:+12025550119
        if digits and digits in re.sub(r"\D", "", said):
            return words
    else:
        shown = target.removeprefix("mailto:")
        if shown in said:
            return words
    return f"{words} ({html.escape(shown)})"


def plain_text(source: str) -> str:
    """The words of a Markdown text without markup, for SMS and search; a link keeps its
    target (the number, the address) beside its words."""
    spelled = _LINK.sub(_spelled_out, render(source))
    return html.unescape(nh3.clean(spelled, tags=set())).strip()
