"""The summary chart of report.html: verdicts per category as inline SVG stacked bars.

Inline SVG (not a JS charting library, not an image file) keeps report.html one
self-contained file that renders the same in a browser, in print and in a
sandboxed viewer with scripts disabled.
"""

from __future__ import annotations

from html import escape
from typing import Any

#: left-to-right order of the segments and of the legend
CHART_ORDER = ("pass", "attested", "fail", "error", "not-applicable", "not-tested")

COLOURS = {
    "pass": "#2da44e",
    "attested": "#0969da",
    "fail": "#cf222e",
    "error": "#e16f24",
    "not-applicable": "#8c959f",
    "not-tested": "#eac54f",
}
#: text colour on each segment, chosen for contrast
INK = {
    "pass": "#fff",
    "attested": "#fff",
    "fail": "#fff",
    "error": "#000",
    "not-applicable": "#000",
    "not-tested": "#000",
}

CATEGORY_ORDER = ("interoperability", "security", "logging", "general")


def ordered_categories(by_category: dict[str, Any]) -> list[str]:
    known = [c for c in CATEGORY_ORDER if c in by_category]
    return known + sorted(c for c in by_category if c not in CATEGORY_ORDER)


def verdict_chart(summary: dict[str, Any]) -> str:
    """SVG markup: one bar per category plus an 'all' bar, segments sized by count, with a legend."""
    rows = [(c, summary["by_category"][c]) for c in ordered_categories(summary["by_category"])]
    rows.append(("all requirements", summary["total"]))
    label_w, bar_w, total_w, bar_h, gap, top = 150, 520, 60, 26, 12, 10
    width = label_w + bar_w + total_w
    legend_y = top + len(rows) * (bar_h + gap) + 6
    height = legend_y + 30
    out = [
        (
            f'<svg id="verdict-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title chart-desc" '
            'font-family="sans-serif" font-size="13">'
        ),
        '<title id="chart-title">Verdicts per requirement category</title>',
        '<desc id="chart-desc">Stacked bars: number of requirements per verdict in each category.</desc>',
    ]
    for i, (name, counts) in enumerate(rows):
        y = top + i * (bar_h + gap)
        total = sum(counts.get(v, 0) for v in CHART_ORDER)
        weight = ' font-weight="bold"' if name == "all requirements" else ""
        out.append(f'<text x="{label_w - 8}" y="{y + bar_h / 2 + 4.5}" text-anchor="end"{weight}>{escape(name)}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bar_h}" fill="#f6f8fa" stroke="#d0d7de"/>')
        x = float(label_w)
        for v in CHART_ORDER:
            n = counts.get(v, 0)
            if not n or not total:
                continue
            w = bar_w * n / total
            out.append(
                f'<rect class="seg" data-category="{escape(name)}" data-verdict="{v}" data-count="{n}" '
                f'x="{x:.2f}" y="{y}" width="{w:.2f}" height="{bar_h}" fill="{COLOURS[v]}">'
                f"<title>{escape(name)}: {n} {v}</title></rect>"
            )
            if w >= 18:
                out.append(
                    f'<text x="{x + w / 2:.2f}" y="{y + bar_h / 2 + 4.5}" text-anchor="middle" '
                    f'fill="{INK[v]}">{n}</text>'
                )
            x += w
        out.append(f'<text x="{label_w + bar_w + 8}" y="{y + bar_h / 2 + 4.5}"{weight}>{total}</text>')
    x = float(label_w)
    for v in CHART_ORDER:
        out.append(f'<rect x="{x:.0f}" y="{legend_y}" width="12" height="12" fill="{COLOURS[v]}"/>')
        out.append(f'<text x="{x + 16:.0f}" y="{legend_y + 10.5}">{v}</text>')
        x += 16 + 7 * len(v) + 18
    out.append("</svg>")
    return "".join(out)
