"""Charts drawn on the server as SVG: no script, printable, accessible, mirrored in
right-to-left pages.

The page's Content-Security-Policy forbids inline styles, so everything visual is
an SVG presentation attribute (``fill``, ``font-size``…), never ``style=``. Each
chart is an ``<svg role="img">`` named by ``aria-label`` and carrying a
``<title>`` and a ``<desc>`` that spells out every value, so a screen reader (or
the printed table next to it) gives the same information.

In a right-to-left page every x coordinate is mirrored (``x → width − x``) and
the root says ``direction="rtl"``; text anchors keep their names, because
"start" and "end" follow the writing direction.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from crm.i18n import format_number

FRAMEWORKS_FILL = "#1d5a86"
ENGAGEMENTS_FILL = "#8a3b12"
TEXT_FILL = "#1f2328"
AXIS_STROKE = "#6b7280"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


def _attrs(**values: Any) -> str:
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"'
        for name, value in values.items()
        if value is not None
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _svg(width: int, height: int, title: str, desc: str, body: list[str], rtl: bool) -> Markup:
    n = next(_ids)
    head = _attrs(
        xmlns="http://www.w3.org/2000/svg",
        class_="chart",
        role="img",
        aria_label=title,
        viewBox=f"0 0 {width} {height}",
        direction="rtl" if rtl else "ltr",
        font_size="13",
    )
    parts = [
        f"<svg {head}>",
        f'<title id="chart-{n}-title">{escape(title)}</title>',
        f'<desc id="chart-{n}-desc">{escape(desc)}</desc>',
        *body,
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    *,
    rtl: bool = False,
    fill: str = FRAMEWORKS_FILL,
    width: int = 600,
) -> Markup:
    """Horizontal bars, one per value, labelled with the value (via |number)."""
    row, label_width, value_room = 28, 250, 64
    height = max(row * len(bars) + 12, 40)
    top = max((b.value for b in bars), default=0) or 1
    span = width - label_width - value_room

    def x(value: float) -> float:
        return round(width - value, 1) if rtl else round(value, 1)

    body = []
    for i, bar in enumerate(bars):
        y = 6 + i * row
        length = max(span * bar.value / top, 1 if bar.value else 0)
        start, end = label_width, label_width + length
        rect_x = min(x(start), x(end))
        number = format_number(bar.value)
        body.append("<g>")
        body.append(f"<title>{escape(bar.label)}: {escape(number)}</title>")
        body.append(
            "<text "
            + _attrs(x=x(label_width - 8), y=y + 18, text_anchor="end", fill=TEXT_FILL)
            + f">{escape(_truncate(bar.label, 36))}</text>"
        )
        body.append(
            "<rect "
            + _attrs(x=rect_x, y=y + 4, width=round(length, 1), height=row - 10, fill=fill)
            + "/>"
        )
        body.append(
            "<text "
            + _attrs(
                x=x(end + 6), y=y + 18, text_anchor="start", fill=TEXT_FILL, font_weight="bold"
            )
            + f">{escape(number)}</text>"
        )
        body.append("</g>")
    body.append(
        "<line "
        + _attrs(
            x1=x(label_width),
            x2=x(label_width),
            y1=2,
            y2=height - 4,
            stroke=AXIS_STROKE,
            stroke_width=1,
        )
        + "/>"
    )
    desc = "; ".join(f"{b.label}: {format_number(b.value)}" for b in bars)
    return _svg(width, height, title, desc, body, rtl)


@dataclass(frozen=True)
class Series:
    label: str
    fill: str


def column_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    values: Sequence[Sequence[int]],
    *,
    rtl: bool = False,
    width: int = 720,
    height: int = 280,
) -> Markup:
    """Grouped columns: one group per category (a year), one column per series.

    ``values[i][j]`` is series ``j`` in category ``i``. Categories run in reading
    order: left to right, or right to left in an rtl page.
    """
    legend_height, axis_height, margin = 30, 26, 12
    plot_top, plot_bottom = legend_height + 18, height - axis_height
    plot_height = plot_bottom - plot_top
    top = max((v for group in values for v in group), default=0) or 1
    group_width = (width - 2 * margin) / max(len(categories), 1)
    column_width = min(34.0, group_width * 0.8 / max(len(series), 1))

    def x(value: float) -> float:
        return round(width - value, 1) if rtl else round(value, 1)

    body = []
    # Legend, in reading order.
    cursor = margin
    for s in series:
        body.append(
            "<rect "
            + _attrs(x=min(x(cursor), x(cursor + 14)), y=8, width=14, height=14, fill=s.fill)
            + "/>"
        )
        body.append(
            "<text "
            + _attrs(x=x(cursor + 20), y=20, text_anchor="start", fill=TEXT_FILL)
            + f">{escape(s.label)}</text>"
        )
        cursor += 28 + 7.2 * len(s.label)
    body.append(
        "<line "
        + _attrs(x1=margin, x2=width - margin, y1=plot_bottom, y2=plot_bottom, stroke=AXIS_STROKE)
        + "/>"
    )
    for i, category in enumerate(categories):
        group_start = margin + i * group_width
        inner = (group_width - column_width * len(series)) / 2
        body.append("<g>")
        summary = "; ".join(
            f"{s.label} {format_number(values[i][j])}" for j, s in enumerate(series)
        )
        # str(): adding a plain string to Markup would escape the <title> tags.
        body.append(f"<title>{escape(category)!s}: {escape(summary)!s}</title>")
        for j, s in enumerate(series):
            value = values[i][j]
            h = plot_height * value / top
            left = group_start + inner + j * column_width
            body.append(
                "<rect "
                + _attrs(
                    x=min(x(left), x(left + column_width - 2)),
                    y=round(plot_bottom - h, 1),
                    width=round(column_width - 2, 1),
                    height=round(h, 1),
                    fill=s.fill,
                )
                + "/>"
            )
            body.append(
                "<text "
                + _attrs(
                    x=x(left + (column_width - 2) / 2),
                    y=round(plot_bottom - h - 4, 1),
                    text_anchor="middle",
                    fill=TEXT_FILL,
                    font_size="11",
                )
                + f">{escape(format_number(value))}</text>"
            )
        body.append(
            "<text "
            + _attrs(
                x=x(group_start + group_width / 2),
                y=height - 8,
                text_anchor="middle",
                fill=TEXT_FILL,
            )
            + f">{escape(category)}</text>"
        )
        body.append("</g>")
    desc = ". ".join(
        f"{category}: "
        + "; ".join(f"{s.label} {format_number(values[i][j])}" for j, s in enumerate(series))
        for i, category in enumerate(categories)
    )
    return _svg(width, height, title, desc, body, rtl)
