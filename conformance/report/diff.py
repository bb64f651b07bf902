"""Compare two reports: which requirements changed verdict, and which changes are regressions.

A regression is a requirement that was satisfied (pass, or attested) in the old
report and fails or errors in the new one. `--policy` decides which levels gate:
`shall` (default) only SHALL, `should` SHALL and SHOULD, `all` every level.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from conformance.report.build import SATISFIED
from conformance.report.text import profile_label, sut_label

POLICIES: dict[str, frozenset[str]] = {
    "shall": frozenset({"SHALL"}),
    "should": frozenset({"SHALL", "SHOULD"}),
    "all": frozenset({"SHALL", "SHOULD", "MAY"}),
}
BAD = frozenset({"fail", "error"})
RANK = {"fail": 0, "error": 1, "pass": 2, "attested": 3, "not-applicable": 4, "not-tested": 5}


@dataclass(frozen=True)
class Change:
    id: str
    level: str
    category: str
    title: str
    old: str | None  # None: not in the old report
    new: str | None  # None: not in the new report
    kind: str  # regression | improvement | coverage-lost | changed | added | removed

    def gated(self, policy: str) -> bool:
        return self.level in POLICIES[policy]


def _kind(old: str | None, new: str | None) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if old in SATISFIED and new in BAD:
        return "regression"
    if old in BAD and new in SATISFIED:
        return "improvement"
    if old in SATISFIED and new not in SATISFIED:
        return "coverage-lost"  # pass -> not-tested / not-applicable: nothing checks it any more
    return "changed"


def diff_reports(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Requirements whose verdict differs (added and removed ones included), in the new report's order."""
    old_rows = {r["id"]: r for r in old["requirements"]}
    new_rows = {r["id"]: r for r in new["requirements"]}
    changes = []
    for rid in list(new_rows) + [r for r in old_rows if r not in new_rows]:
        o, n = old_rows.get(rid), new_rows.get(rid)
        ov, nv = (o or {}).get("verdict"), (n or {}).get("verdict")
        if ov == nv:
            continue
        row = n or o
        assert row is not None
        changes.append(Change(rid, row["level"], row["category"], row["title"], ov, nv, _kind(ov, nv)))
    return changes


def shall_regressions(changes: list[Change]) -> list[Change]:
    """SHALL requirements that went from satisfied to fail / error: never reported as OK."""
    return [c for c in changes if c.kind == "regression" and c.level == "SHALL"]


def gating(changes: list[Change], policy: str, fail_on: str | None) -> list[Change]:
    """The changes that make `report diff` exit non-zero (`conformance report diff` gates on
    regressions unless told `--fail-on none`)."""
    if fail_on is None:
        return []
    if fail_on == "regression":
        return [c for c in changes if c.kind == "regression" and c.gated(policy)]
    if fail_on == "change":
        return [c for c in changes if c.gated(policy)]
    raise ValueError(fail_on)


def _header(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [
        f"old: {old['run']['id']}  {sut_label(old)}  {profile_label(old)}  conclusion: {old['conclusion']['label']}",
        f"new: {new['run']['id']}  {sut_label(new)}  {profile_label(new)}  conclusion: {new['conclusion']['label']}",
    ]
    if old["profile"]["id"] != new["profile"]["id"]:
        lines.append(f"note: different profiles ({old['profile']['id']} vs {new['profile']['id']})")
    elif old["profile"]["sha256"] != new["profile"]["sha256"]:
        lines.append("note: the profile changed between the runs (different sha256)")
    return lines


def render_text(
    old: dict[str, Any], new: dict[str, Any], changes: list[Change], blocking: list[Change], policy: str
) -> str:
    lines = _header(old, new)
    if not changes:
        lines.append("No requirement changed verdict.")
    else:
        lines.append(f"{len(changes)} requirement(s) changed verdict:")
        width = max(len(c.id) for c in changes)
        for c in sorted(changes, key=lambda c: (c.kind != "regression", RANK.get(c.new or "", 9), c.id)):
            mark = "REGRESSION" if c.kind == "regression" else c.kind
            lines.append(
                f"  {mark:<13} {c.id:<{width}} [{c.level}] {c.old or '(absent)'} -> {c.new or '(absent)'}  {c.title}"
            )
    gated = ", ".join(sorted(POLICIES[policy], key=["SHALL", "SHOULD", "MAY"].index))
    shall = shall_regressions(changes)
    if blocking:
        lines.append(
            f"FAILED: {len(blocking)} gating change(s) among {gated} requirements: " + ", ".join(c.id for c in blocking)
        )
    elif shall:  # --fail-on none: listed, not gated, but never called OK
        lines.append(f"NOT GATED: {len(shall)} SHALL regression(s): " + ", ".join(c.id for c in shall))
    else:
        lines.append(f"OK: no gating change among {gated} requirements.")
    return "\n".join(lines) + "\n"


def render_markdown(
    old: dict[str, Any], new: dict[str, Any], changes: list[Change], blocking: list[Change], policy: str
) -> str:
    from conformance.report.markdown import cell

    out = ["### EHDS conformance: verdict changes", ""]
    out += [f"- {line}" for line in _header(old, new)]
    out.append("")
    if not changes:
        out.append("No requirement changed verdict.")
    else:
        out += ["| | Requirement | Level | Old | New |", "|---|---|---|---|---|"]
        for c in changes:
            mark = "❌ regression" if c.kind == "regression" else ("✅ " if c.kind == "improvement" else "") + c.kind
            out.append(f"| {mark} | {cell(c.id + ' ' + c.title)} | {c.level} | {c.old or '—'} | {c.new or '—'} |")
    out.append("")
    shall = shall_regressions(changes)
    if blocking:
        out.append(f"**{len(blocking)} gating change(s)** (policy: {policy}).")
    elif shall:
        out.append(f"**{len(shall)} SHALL regression(s), not gated** (--fail-on none).")
    else:
        out.append(f"No gating change (policy: {policy}).")
    return "\n".join(out) + "\n"


def render_json(changes: list[Change], blocking: list[Change], policy: str) -> str:
    return (
        json.dumps(
            {"policy": policy, "changes": [asdict(c) for c in changes], "gating": [c.id for c in blocking]}, indent=2
        )
        + "\n"
    )
