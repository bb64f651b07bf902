"""summary.md: a short Markdown summary for a pull-request or merge-request comment.

Everything from the SUT is escaped (a message may contain Markdown or HTML), and
the lists are capped so the comment stays far below the 65 536-character limit of
GitHub comments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.report.chart import CHART_ORDER, ordered_categories
from conformance.report.text import blocker_lines, clip, first_message, profile_label, scope_view, sut_label

SUMMARY_FILE = "summary.md"
MAX_ROWS = 40
ICON = {"conformant": "✅", "non-conformant": "❌", "incomplete": "🟡", "partial": "◐"}
#: the command summary.md suggests; it works exactly as written when run inside the report folder
VERIFY_COMMAND = "conformance report verify ."


def cell(text: str, limit: int = 300) -> str:
    """Text safe inside a Markdown table cell: one line, no pipes, no HTML."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return clip(text, limit)


def render_markdown(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    c = doc["conclusion"]
    run = doc["run"]
    out = [
        f"## {ICON[c['status']]} EHDS conformance: {cell(c['label'])}",
        "",
        cell(c["explanation"], 2000),
        "",
    ]
    blockers = blocker_lines(doc)
    if blockers:
        out += [f"**Blocking SHALL requirements** ({len(blockers)}):", ""]
        out += [f"- {cell(b)}" for b in blockers[:MAX_ROWS]]
        if len(blockers) > MAX_ROWS:
            out.append(f"- … and {len(blockers) - MAX_ROWS} more (see report.html)")
        out.append("")
    scope = scope_view(doc)
    if scope["missing_mandatory"]:
        out += [f"**Mandatory capabilities not declared** ({len(scope['missing_mandatory'])}):", ""]
        out += [f"- `{cell(m['capability'])}`: {cell(m['id'])} {cell(m['rule'], 200)}"
                + (f" ({cell(m['reference'], 200)})" if m["reference"] else "") for m in scope["missing_mandatory"]]
        out.append("")
    if scope["exclusions"] or scope["not_applicable"]:
        out += [f"<details><summary>Excluded by the declared scope ({len(scope['not_applicable'])} "
                "requirement(s))</summary>", ""]
        for e in scope["exclusions"]:
            ref = f" ({cell(e['reference'], 200)})" if e["reference"] else ""
            out.append(f"- rule {cell(e['id'])}: {cell(e['rule'], 200)}{ref}; excluded: {cell(e['excluded'])}")
        for n in scope["not_applicable"][:MAX_ROWS]:
            out.append(f"- `{cell(n['id'])}`: {cell(n['reason'], 200)}")
        out += ["", "</details>", ""]
    out += [
        f"**SUT** {cell(sut_label(doc))} · **Profile** {cell(profile_label(doc))} · **Run** `{cell(run['id'])}`"
        f" · harness {cell(run['harness']['version'])}" + (f" · seed `{cell(run['seed'])}`" if run["seed"] else ""),
        "",
        "| Category | " + " | ".join(CHART_ORDER) + " | total |",
        "|---|" + "---:|" * (len(CHART_ORDER) + 1),
    ]
    for name in ordered_categories(s["by_category"]):
        c = s["by_category"][name]
        out.append(f"| {cell(name)} | " + " | ".join(str(c[v]) for v in CHART_ORDER) + f" | {sum(c.values())} |")
    t = s["total"]
    out.append("| **all** | " + " | ".join(f"**{t[v]}**" for v in CHART_ORDER) + f" | **{sum(t.values())}** |")
    out.append("")

    def table(title: str, rows: list[dict[str, Any]], with_message: bool, open_: bool = True) -> None:
        if not rows:
            return
        body = [
            "| Requirement | Level | Verdict |" + (" Why |" if with_message else ""),
            "|---|---|---|" + ("---|" if with_message else ""),
        ]
        for r in rows[:MAX_ROWS]:
            msg = f" {cell(first_message(r))} |" if with_message else ""
            body.append(f"| `{cell(r['id'])}` {cell(r['title'], 120)} | {r['level']} | {r['verdict']} |{msg}")
        if len(rows) > MAX_ROWS:
            body.append(f"\n… and {len(rows) - MAX_ROWS} more (see report.html)")
        if open_:
            out.extend([f"### {title} ({len(rows)})", "", *body, ""])
        else:
            out.extend([f"<details><summary>{title} ({len(rows)})</summary>", "", *body, "", "</details>", ""])

    reqs = doc["requirements"]
    table(
        "SHALL requirements not met",
        [r for r in reqs if r["level"] == "SHALL" and r["verdict"] in ("fail", "error")],
        True,
    )
    table(
        "Other requirements not met",
        [r for r in reqs if r["level"] != "SHALL" and r["verdict"] in ("fail", "error")],
        True,
        open_=False,
    )
    table("Not tested", [r for r in reqs if r["verdict"] == "not-tested"], False, open_=False)
    attested = [r for r in reqs if r["verdict"] == "attested"]
    if attested:
        out += [f"<details><summary>Attested, not tested automatically ({len(attested)})</summary>", ""]
        for r in attested[:MAX_ROWS]:
            a = next(x for x in r.get("attestations", []) if x["status"] == "applied")
            out.append(f"- `{cell(r['id'])}` attested by {cell(a['who'])} ({cell(a['role'])}) on {cell(a['when'])}: "
                       f"{cell(a['statement'], 200)}")
        out += ["", "</details>", ""]
    out.append(f"Full report: `report.html` of run `{cell(run['id'])}` · check its integrity, in the report folder: "
               f"`{VERIFY_COMMAND}` (add `--key` with the vendor's public key to check who signed it)")
    return "\n".join(out) + "\n"


def write_markdown(doc: dict[str, Any], directory: Path) -> Path:
    path = directory / SUMMARY_FILE
    path.write_text(render_markdown(doc), encoding="utf-8")
    return path
