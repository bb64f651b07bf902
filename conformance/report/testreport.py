"""testreport.json: the run as a FHIR R4 TestReport, for FHIR-native tooling (e.g. Touchstone-style dashboards).

One TestReport.test per requirement, one action.assert per check. R4 assert
results are pass | skip | fail | warning | error: not-applicable, not-tested and
attested map to `skip`; the exact verdict, level and category are kept in
extensions so nothing is lost. The run's conclusion (the one every output shows)
is in the `conclusion` and `conclusion-explanation` extensions and the narrative;
TestReport.result is `pass` only for a conformant run, `fail` for a
non-conformant one, `pending` for an incomplete or partial one (not decided).
Every extension is defined in the harness's own FHIR package
(profiles/packages/ehds-harness), loaded by default, so the TestReport validates.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from conformance.report.text import clip, conclusion_text

TESTREPORT_FILE = "testreport.json"
EXT = "https://ehds-conformance.invalid/fhir/StructureDefinition/"
NAMESPACE = uuid.UUID("6f0d3e0a-3c58-4d55-9a55-6e8f5c2f7a10")
ASSERT_RESULT = {
    "pass": "pass",
    "fail": "fail",
    "error": "error",
    "not-applicable": "skip",
    "not-tested": "skip",
    "attested": "skip",
}


def fhir_id(text: str) -> str:
    """A valid FHIR id ([A-Za-z0-9-.]{1,64}) derived from any text."""
    out = re.sub(r"[^A-Za-z0-9\-.]", "-", text).strip("-") or "run"
    return out[:64]


def fhir_datetime(text: str) -> str | None:
    """An ISO 8601 timestamp as a FHIR dateTime (a time needs a zone: naive times are taken as UTC)."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat().replace("+00:00", "Z")


def _string(text: str, limit: int = 4000) -> str | None:
    """FHIR strings may not be empty or whitespace-only."""
    text = clip(text.strip(), limit)
    return text or None


RESULT = {"conformant": "pass", "non-conformant": "fail", "incomplete": "pending", "partial": "pending"}


def _ext(name: str, code: str) -> dict[str, str]:
    return {"url": EXT + name, "valueCode": code}


def _narrative(doc: dict[str, Any]) -> dict[str, str]:
    """The conclusion as the resource's human-readable narrative (what a FHIR viewer shows first)."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in conclusion_text(doc).splitlines())
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{paragraphs}</div>'}


def _assert(verdict: str, message: str, detail: str) -> dict[str, Any]:
    a: dict[str, Any] = {"result": ASSERT_RESULT[verdict]}
    if m := _string(message):
        a["message"] = m
    if d := _string(detail, 1000):
        a["detail"] = d
    return {"assert": a}


def testreport(doc: dict[str, Any]) -> dict[str, Any]:
    run, prof, sut = doc["run"], doc["profile"], doc.get("sut", {})
    tests = []
    for row in doc["requirements"]:
        actions = [
            _assert(c["verdict"], f"{c['verdict']}: {c['message']}" if c.get("message") else c["verdict"], c["nodeid"])
            for c in row["checks"]
        ] or [_assert(row["verdict"], f"{row['verdict']}: {row.get('reason') or 'no automatic check'}", "")]
        if row["verdict"] == "attested":
            actions.append(_assert("attested", f"attested: {row['reason']}", ""))
        test: dict[str, Any] = {
            "extension": [
                _ext("requirement-verdict", row["verdict"]),
                _ext("requirement-level", row["level"]),
                _ext("requirement-category", row["category"]),
            ],
            "name": row["id"],
            "action": actions,
        }
        if desc := _string(f"[{row['level']}] {row['title']}"):
            test["description"] = desc
        tests.append(test)
    verdicts = [r["verdict"] for r in doc["requirements"]]
    conclusion = doc["conclusion"]
    decided = [v for v in verdicts if v in ("pass", "fail", "error")]
    product = " ".join(x for x in (sut.get("product", ""), sut.get("version", "")) if x) or "SUT"
    out: dict[str, Any] = {
        "resourceType": "TestReport",
        "id": fhir_id(run["id"]),
        "text": _narrative(doc),
        "extension": [
            _ext("conclusion", conclusion["status"]),
            {"url": EXT + "conclusion-explanation", "valueString": clip(conclusion_text(doc), 8000)},
        ],
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid5(NAMESPACE, run['id'])}"},
        "name": f"EHDS conformance of {product} against {prof['id']} {prof['version']}".strip(),
        "status": "completed",
        "testScript": {
            "identifier": {
                "system": "https://ehds-conformance.invalid/profile",
                "value": f"{prof['id']}|{prof['version']}",
            },
            "display": f"{prof['id']} {prof['version']}: {prof['title']}".strip(": "),
        },
        "result": RESULT[conclusion["status"]],
        "score": round(100 * sum(v == "pass" for v in decided) / len(decided), 2) if decided else 0,
        "tester": f"{run['harness']['name']} {run['harness']['version']}",
        "participant": [
            {
                "type": "test-engine",
                "uri": f"urn:ehds-conformance:harness:{quote(run['harness']['version'], safe='')}",
                "display": f"{run['harness']['name']} {run['harness']['version']}",
            },
            {"type": "server", "uri": f"urn:ehds-conformance:sut:{quote(product, safe='')}", "display": product},
        ],
        "test": tests,
    }
    if issued := fhir_datetime(run["finished"]):
        out["issued"] = issued
    return out


def write_testreport(doc: dict[str, Any], directory: Path) -> Path:
    path = directory / TESTREPORT_FILE
    path.write_text(json.dumps(testreport(doc), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
