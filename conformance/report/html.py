"""report.html: one self-contained page a certifier can read, print and archive.

No external assets (a Content-Security-Policy in the page forbids loading any),
inline SVG chart, inline CSS and a small inline script for the table filters.
Jinja2 autoescaping is on: every value from the SUT is text, never markup.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from conformance.report.chart import CHART_ORDER, COLOURS, INK, ordered_categories, verdict_chart
from conformance.report.text import blockers, headers_items, profile_label, scope_view, sut_label

HTML_FILE = "report.html"
#: a document larger than this is cut in the page (report.json keeps it whole)
DOCUMENT_CHARS = 20_000


def _pretty(data: Any) -> str:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) if not isinstance(data, str) else data
    if len(text) > DOCUMENT_CHARS:
        return (
            text[:DOCUMENT_CHARS] + f"\n… cut at {DOCUMENT_CHARS} of {len(text)} characters; full copy in report.json"
        )
    return text


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    loader = jinja2.PackageLoader("conformance.report", "templates")
    # ChainableUndefined: optional evidence fields may be absent and render as nothing
    return jinja2.Environment(
        loader=loader, autoescape=True, undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True
    )


def _script() -> str:
    return resources.files("conformance.report").joinpath("templates/report.js").read_text("utf-8")


def render_html(doc: dict[str, Any]) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        doc=doc,
        verdicts=CHART_ORDER,
        colours=COLOURS,
        ink=INK,
        categories=ordered_categories(doc["summary"]["by_category"]),
        chart=verdict_chart(doc["summary"]),
        script=_script().replace("</", "<\\/"),
        sut_label=sut_label(doc),
        profile_label=profile_label(doc),
        headers_items=headers_items,
        scope=scope_view(doc),
        blockers=blockers(doc),
        pretty=_pretty,
        ignored_attestations=[a for a in (doc.get("attestations") or {}).get("items", []) if a["status"] == "ignored"],
    )


def write_html(doc: dict[str, Any], directory: Path) -> Path:
    path = directory / HTML_FILE
    path.write_text(render_html(doc), encoding="utf-8")
    return path
