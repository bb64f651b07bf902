"""Plain-text renderings of checks and evidence, shared by the JUnit, Allure, TestReport and Markdown writers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (a SUT's error message may contain any byte)."""
    return _XML_ILLEGAL.sub("\ufffd", text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def headers_items(headers: Any) -> list[tuple[str, str]]:
    """Headers recorded as a mapping or as [name, value] pairs, as a list of pairs."""
    if isinstance(headers, dict):
        out = []
        for k, v in headers.items():
            for one in v if isinstance(v, list) else [v]:
                out.append((str(k), str(one)))
        return out
    if isinstance(headers, list):
        return [(str(p[0]), str(p[1])) for p in headers if isinstance(p, (list, tuple)) and len(p) == 2]
    return []


def evidence_summary(item: dict[str, Any], limit: int = 400) -> list[str]:
    """One or more short lines describing an evidence item."""
    kind = item.get("kind", "?")
    if kind == "note":
        return [clip(f"note: {item.get('text', '')}", limit)]
    if kind == "validation":
        issues = item.get("issues", [])
        lines = [f"validation: {len(issues)} issue(s)"]
        for i in issues:
            where = f" at {i['location']}" if i.get("location") else ""
            rule = f" [{i['rule']}]" if i.get("rule") else ""
            lines.append(clip(f"  {i.get('severity', '?')}{where}: {i.get('message', '')}{rule}", limit))
        return lines
    if kind == "http":
        status = item.get("status")
        answer = status if status is not None else "no response"
        return [
            clip(
                f"http: {item.get('method', '?')} {item.get('url', '')} -> {answer}",
                limit,
            )
        ]
    if kind == "falsifying-example":
        seed = f" (seed {item['seed']})" if item.get("seed") not in (None, "") else ""
        shown = item.get("repr") or json.dumps(item.get("inputs", {}), default=str, ensure_ascii=False)
        lines = [clip(f"falsifying example{seed}: {shown}", limit)]
        if item.get("failure"):
            lines.append(clip(f"  failure: {item['failure']}", limit))
        return lines
    if kind == "hypothesis":
        return [f"hypothesis: {item.get('property', '')}: {item.get('examples_run', '?')} example(s) run"]
    if kind == "adapter-error":
        return [clip(f"adapter error: {item.get('type', '')}: {item.get('message', '')}", limit)]
    if kind == "document" and "data" not in item:
        return [f"document: too large to embed ({item.get('size', '?')} bytes, sha256 {item.get('sha256', '?')})"]
    if kind == "document":
        data = item.get("data")
        label = data.get("resourceType", "document") if isinstance(data, dict) else type(data).__name__
        return [f"document: {label} ({len(json.dumps(data, default=str))} characters; full copy in report.json)"]
    return [clip(f"{kind}: {json.dumps({k: v for k, v in item.items() if k != 'kind'}, default=str)}", limit)]


def check_lines(check: dict[str, Any], limit: int = 400) -> list[str]:
    lines = [f"[{check['verdict']}] {check['nodeid']}"]
    if check.get("message"):
        lines += ["  " + clip(line, limit) for line in check["message"].splitlines()[:20]]
    if check.get("seed"):
        lines.append(f"  seed: {check['seed']}")
    for ev in check.get("evidence", []):
        lines += ["  " + line for line in evidence_summary(ev, limit)]
    return lines


def failing_checks(row: dict[str, Any]) -> Iterable[dict[str, Any]]:
    return [c for c in row["checks"] if c["verdict"] in ("fail", "error")]


def first_message(row: dict[str, Any]) -> str:
    """The message a CI system shows first for a requirement: its first failing check's message, or the reason."""
    for c in failing_checks(row):
        if c.get("message"):
            return c["message"].splitlines()[0]
    return row.get("reason", "")


def profile_label(doc: dict[str, Any]) -> str:
    p = doc["profile"]
    return f"{p['id']} {p['version']}".strip()


def sut_label(doc: dict[str, Any]) -> str:
    s = doc.get("sut", {})
    text = " ".join(x for x in (s.get("product", ""), s.get("version", "")) if x) or "unnamed SUT"
    return f"{text} ({s['vendor']})" if s.get("vendor") else text


def _reference_text(ref: Any) -> str:
    if isinstance(ref, dict):
        return ", ".join(str(ref[k]) for k in ("source", "section", "url") if ref.get(k))
    if isinstance(ref, list):
        return "; ".join(_reference_text(r) for r in ref)
    return str(ref or "")


def _rule_view(rule: Any) -> dict[str, str]:
    rule = rule if isinstance(rule, dict) else {"rule": str(rule or "")}
    return {"id": str(rule.get("id", "")), "rule": str(rule.get("rule", "")),
            "reference": _reference_text(rule.get("references") or rule.get("reference"))}


def scope_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The declared scope (`conformance.scope.Scope.to_json()`) in a fixed shape for the renderers.

    declared: [(what, text)]; source: where the declaration came from; rules_stated: whether the
    profile states scope rules (None: not recorded); exclusions: rules of the profile that excluded
    something, with their reference and what they excluded; missing_mandatory: capabilities the
    profile makes mandatory that the SUT does not declare; not_applicable: the requirements excluded
    and why (from the rows, so it is there even when the run recorded no scope).
    """
    scope = doc.get("scope") or {}
    labels = (("declared_capabilities", "Declared capabilities"), ("priority_categories", "Priority categories handled"),
              ("categories_not_handled", "Priority categories not handled"))
    declared = []
    for key, label in labels:
        if key in scope:
            value = scope[key]
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            declared.append((label, text or "none"))
    exclusions = []
    for item in scope.get("excluded", []) or []:
        view = _rule_view(item.get("rule") if isinstance(item, dict) else item)
        what = item.get("excluded", []) if isinstance(item, dict) else []
        view["excluded"] = ", ".join(map(str, what)) if isinstance(what, list) else str(what)
        exclusions.append(view)
    missing = []
    for item in scope.get("missing_mandatory", []) or []:
        if isinstance(item, dict):
            missing.append({"capability": str(item.get("capability", "")), **_rule_view(item.get("rule"))})
    not_applicable = [{"id": row["id"], "reason": row.get("reason", "")}
                      for row in doc.get("requirements", []) if row["verdict"] == "not-applicable"]
    rules_stated = scope.get("rules_stated")
    return {"declared": declared, "source": str(scope.get("declared_from", "") or ""),
            "rules_stated": rules_stated if isinstance(rules_stated, bool) else None,
            "exclusions": exclusions, "missing_mandatory": missing, "not_applicable": not_applicable}


def blockers(doc: dict[str, Any]) -> list[dict[str, str]]:
    """The SHALL requirements that keep the run from being conformant: id, verdict, what happened and
    why (the row's reason, or for a failure or error the first message of its failing check)."""
    rows = {r["id"]: r for r in doc.get("requirements", [])}
    c = doc["conclusion"]
    out = []
    for key, what in (("failed", "failed"), ("errors", "could not be decided"), ("not_tested", "not tested")):
        for b in c.get(key, []):
            why = b.get("reason") or (first_message(rows[b["id"]]) if b["id"] in rows else "")
            out.append({"id": b["id"], "verdict": b["verdict"], "what": what, "why": why})
    return out


def blocker_lines(doc: dict[str, Any]) -> list[str]:
    """`blockers` one line each."""
    return [f"{b['id']} {b['what']}" + (f": {b['why']}" if b["why"] else "") for b in blockers(doc)]


def conclusion_text(doc: dict[str, Any]) -> str:
    """The conclusion as plain text: label, explanation, blockers (what junit.xml and the TestReport carry)."""
    c = doc["conclusion"]
    lines = [f"Conclusion: {c['label']}", c["explanation"]]
    blockers = blocker_lines(doc)
    if blockers:
        lines.append("Blocking SHALL requirements:")
        lines += [f"- {b}" for b in blockers]
    return "\n".join(lines)
