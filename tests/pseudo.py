"""The pseudo-locale check: all visible text on a page must have come from a catalogue."""

from __future__ import annotations

from html.parser import HTMLParser

#: Text that is the same in every language: the product's name, separators, numbers.
UNTRANSLATABLE = {"Refuge", "·", "|", "-", ":"}


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"style", "script", "title"}:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"style", "script", "title"}:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def untranslated(html: str) -> list[str]:
    """Visible text that the pseudo-locale did not bracket: a string that skipped gettext."""
    parser = _VisibleText()
    parser.feed(html)
    return [
        text
        for text in parser.texts
        if text not in UNTRANSLATABLE
        and not text.isdigit()
        and not (text.startswith("[") and text.endswith("]"))
    ]
