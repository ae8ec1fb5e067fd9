"""Plots as inline SVG strings: no script, no font or file fetched, so report.html stands alone."""

from __future__ import annotations

import datetime as dt
from html import escape

RED, GREEN, GREY, INK, BLUE = "#c0392b", "#1e8449", "#bbbbbb", "#222222", "#2e86c1"


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11, fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-family="sans-serif">{escape(text)}</text>')


def _date(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M").removesuffix(" 00:00")


def burndown(points: list[tuple[float, float]], incidents: list[tuple[float, float]],
             start: float, end: float, title: str, width: int = 560, height: int = 180) -> str:
    """Remaining budget (1 → 0 and below) over the interval; incidents shaded."""
    left, right, top, bottom = 44, 10, 20, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    low = min([0.0, *(v for _, v in points)])
    span = max(end - start, 1.0)

    def x(t: float) -> float:
        return left + (t - start) / span * plot_w

    def y(v: float) -> float:
        return top + (1.0 - v) / (1.0 - low) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot burndown" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             _text(left, 13, title, size=12)]
    for a, b in incidents:
        parts.append(f'<rect class="incident" x="{x(a):.1f}" y="{top}" width="{max(1.0, x(b) - x(a)):.1f}" '
                     f'height="{plot_h}" fill="{RED}" fill-opacity="0.18"/>')
    for v in (1.0, 0.5, 0.0, *([low] if low < -0.1 else [])):  # a label just under 0% would overprint it
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     f'stroke="{GREY if v else INK}" stroke-width="{0.5 if v else 1}"/>')
        parts.append(_text(left - 4, y(v) + 4, f"{v:.0%}", anchor="end", size=10))
    if points:
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
        colour = GREEN if points[-1][1] > 0 else RED
        parts.append(f'<polyline class="line" points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
    else:
        parts.append(_text(left + plot_w / 2, top + plot_h / 2, "no data", anchor="middle"))
    for t, anchor in ((start, "start"), ((start + end) / 2, "middle"), (end, "end")):
        parts.append(_text(x(t), height - 6, _date(t), anchor=anchor, size=10))
    parts.append("</svg>")
    return "".join(parts)


def attainment(rows: list[tuple[str, float | None, float]], title: str, width: int = 720) -> str:
    """One bar per SLO: attainment against its objective (a tick), red where it was missed.

    The axis starts a little under the lowest objective or attainment shown, so the
    difference between 99.9% and 99.5% is visible rather than a sliver at the top.
    """
    row_h, left, right, top = 18, 260, 60, 28
    height = top + row_h * max(1, len(rows)) + 24
    known = [v for _, a, o in rows for v in (a, o) if v is not None]
    low = max(0.0, min(known, default=0.9) - (1 - min(known, default=0.9)) * 0.5)
    low = min(low, 0.99)
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + (max(v, low) - low) / (1.0 - low) * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot attainment" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             _text(8, 16, title, size=12)]
    for tick in (low, (low + 1) / 2, 1.0):
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 4}" y2="{height - 20}" '
                     f'stroke="{GREY}" stroke-width="0.5"/>')
        parts.append(_text(x(tick), height - 6, f"{tick:.3%}", anchor="middle", size=10))
    for index, (label, value, objective) in enumerate(rows):
        y0 = top + index * row_h
        parts.append(_text(left - 6, y0 + 12, label, anchor="end", size=11))
        if value is None:
            parts.append(_text(left + 4, y0 + 12, "no data", size=10, fill=RED))
        else:
            colour = GREEN if value >= objective else RED
            parts.append(f'<rect class="bar" x="{left}" y="{y0 + 3}" width="{max(1.0, x(value) - left):.1f}" '
                         f'height="{row_h - 6}" fill="{colour}"/>')
            parts.append(_text(x(value) + 4, y0 + 12, f"{value:.3%}", size=10))
        parts.append(f'<line class="objective" x1="{x(objective):.1f}" x2="{x(objective):.1f}" y1="{y0 + 1}" '
                     f'y2="{y0 + row_h - 1}" stroke="{INK}" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)
