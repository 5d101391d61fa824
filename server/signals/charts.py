"""Small bar charts drawn on the server as inline SVG: no script, no request elsewhere.

Pure. A chart is an image with a title and a description (`role="img"`, read by screen
readers); the table beside it holds the same numbers for anyone who reads rather than looks.
A withheld count is drawn as an empty dashed box of no height it could be measured by, so
the picture never says more than the table. Right-to-left pages draw time from the right.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH = 320
HEIGHT = 120
#: Space under the bars for the week labels.
LABELS = 18
GAP = 4
BAR = "#1d3557"
WITHHELD = "#6b6b6b"
#: A withheld count's box: the same for every one, whatever the count.
WITHHELD_HEIGHT = 6


@dataclass(frozen=True)
class Bar:
    """One week: its short label and its count (None: withheld)."""

    label: str
    value: int | None


def bar_chart(ident: str, title: str, description: str, bars: list[Bar], *, rtl: bool) -> str:
    """An SVG bar chart; `ident` makes its title and description ids unique on the page."""
    shown = [bar.value for bar in bars if bar.value is not None]
    top = max(shown, default=0) or 1
    slot = WIDTH / max(len(bars), 1)
    plot = HEIGHT - LABELS
    drawn = []
    for n, bar in enumerate(reversed(bars) if rtl else bars):
        x = n * slot + GAP / 2
        width = slot - GAP
        if bar.value is None:
            y = plot - WITHHELD_HEIGHT
            drawn.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{WITHHELD_HEIGHT}" fill="none" stroke="{WITHHELD}" '
                'stroke-dasharray="3 2"/>'
            )
        else:
            height = max(plot * bar.value / top, 1.0)
            drawn.append(
                f'<rect x="{x:.1f}" y="{plot - height:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" fill="{BAR}"/>'
            )
        drawn.append(
            f'<text x="{x + width / 2:.1f}" y="{HEIGHT - 4}" font-size="10" '
            f'text-anchor="middle">{escape(bar.label)}</text>'
        )
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>'
        f'<line x1="0" y1="{plot}" x2="{WIDTH}" y2="{plot}" stroke="#999"/>'
        + "".join(drawn)
        + "</svg>"
    )
