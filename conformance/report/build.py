"""Turn a RunResult into the report document (the dict that becomes report.json).

Every writer (HTML, JUnit, Allure, FHIR TestReport, Markdown) renders *this
document*, not the RunResult: so what a certifier reads in report.html is what
report.json says, secrets are removed once for all outputs, and a report can be
re-rendered from its report.json alone.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

import jsonschema

from conformance.conclusion import Conclusion, conclude
from conformance.model import VERDICT_PRECEDENCE, RequirementResult, RunResult, Verdict
from conformance.report.portable import portable_path
from conformance.report.redact import redact_counted

SCHEMA_VERSION = "2.0.0"
SCHEMA_ID = f"https://ehds-conformance.invalid/schema/report/{SCHEMA_VERSION}/report.schema.json"

VERDICTS: tuple[str, ...] = tuple(v.value for v in VERDICT_PRECEDENCE)

#: verdicts that satisfy a requirement (attested: by a person's statement, not by a check)
SATISFIED = frozenset({Verdict.PASS.value, Verdict.ATTESTED.value})

#: top-level keys of report.json, in the order they are written
ORDER = ("schema", "schema_version", "run", "profile", "packages", "sut", "summary", "conclusion", "scope",
         "requirements", "attestations")

#: requirement fields that come from the (version-controlled) profile, not from the SUT; not redacted
_PROFILE_FIELDS = ("id", "title", "statement", "level", "category", "applies_to", "references", "declared_in", "notes")


def _json_safe(obj: Any) -> Any:
    """Evidence is JSON-safe by contract; anything that is not is kept as its str() rather than crashing a report."""
    return json.loads(json.dumps(obj, default=str, ensure_ascii=False))


def _duration(started: str, finished: str) -> float | None:
    try:
        a = datetime.fromisoformat(started)
        b = datetime.fromisoformat(finished)
    except (ValueError, AttributeError):
        return None
    return round((b - a).total_seconds(), 3)


@lru_cache(maxsize=1)
def _evidence_validator() -> jsonschema.Draft202012Validator:
    from conformance.report.jsonreport import report_schema

    defs = report_schema()["$defs"]
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/evidence", "$defs": defs})


def normalise_evidence(item: Any) -> dict[str, Any]:
    """An evidence item as the schema wants it. A known kind recorded in the wrong shape (by a
    third-party check, say) becomes `malformed-evidence` carrying the original: a report is
    always written and nothing recorded is lost."""
    if isinstance(item, dict) and isinstance(item.get("kind"), str) and item["kind"]:
        errors = list(_evidence_validator().iter_errors(item))
        if not errors:
            return item
        problem = errors[0].message
        kind = item["kind"]
    else:
        problem, kind = "evidence item is not an object with a 'kind'", ""
    data = {k: v for k, v in item.items() if k != "kind"} if isinstance(item, dict) else item
    return {"kind": "malformed-evidence", "original_kind": str(kind), "problem": problem, "data": data}


def _normalise_package(item: Any) -> dict[str, Any]:
    """A package entry with its folder as a portable path: a report names no directory of the machine it ran on."""
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        if isinstance(item.get("path"), str):
            return {**item, "path": portable_path(item["path"])}
        return item
    return {"name": str(item.get("name", item)) if isinstance(item, dict) else str(item)}


def _row(rr: RequirementResult, with_file: bool = False) -> dict[str, Any]:
    row = rr.requirement.to_json()
    row["verdict"] = rr.verdict.value
    row["reason"] = rr.reason
    if rr.verdict is Verdict.ATTESTED:
        # only an attestations file makes a requirement attested (it records who, when, what):
        # back to not-tested here; `attestations.apply` attests it again from the file
        row["verdict"] = Verdict.NOT_TESTED.value
        row["reason"] = (
            "no automatic check" if with_file else "no automatic check; attested without an attestations file"
        )
    row["duration"] = round(sum(c.duration for c in rr.checks), 4)
    row["checks"] = []
    for check in rr.checks:
        data = _json_safe(check.to_json())
        data["evidence"] = [normalise_evidence(e) for e in data["evidence"]]
        row["checks"].append(data)
    return row


def conclusion_of(doc: dict[str, Any]) -> Conclusion:
    """The run's conclusion from a report document's rows: `conformance.conclusion.conclude`, the
    same function the CLI's last line and exit code come from, so no output can disagree with it."""
    run = doc["run"]
    return conclude(doc["requirements"], selection=run.get("selection") or {}, strict=bool(run.get("strict")))


def summarise(rows: list[dict[str, Any]], conclusion: Conclusion) -> dict[str, Any]:
    """Counts by verdict, category and level, and the status of the conclusion (computed elsewhere)."""
    total = {v: 0 for v in VERDICTS}
    by_cat: dict[str, dict[str, int]] = {}
    by_level: dict[str, dict[str, int]] = {}
    for row in rows:
        v = row["verdict"]
        total[v] += 1
        by_cat.setdefault(row["category"], {x: 0 for x in VERDICTS})[v] += 1
        by_level.setdefault(row["level"], {x: 0 for x in VERDICTS})[v] += 1
    return {
        "requirements": len(rows),
        "checks": sum(len(r["checks"]) for r in rows),
        "total": total,
        "by_category": by_cat,
        "by_level": by_level,
        "conclusion": conclusion.status,
    }


def conclude_document(doc: dict[str, Any]) -> dict[str, Any]:
    """Set `summary` and `conclusion` of a report document from its rows (in place); return it."""
    conclusion = conclusion_of(doc)
    doc["summary"] = summarise(doc["requirements"], conclusion)
    doc["conclusion"] = conclusion.to_json()
    return doc


def build_report(result: RunResult, attestations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The report document for a run: attestations applied (see `attestations.apply`), redacted, summarised."""
    from conformance.report.attestations import apply

    doc = raw_document(result, with_attestations=attestations is not None)
    if attestations is not None:
        apply(doc, attestations)
    return finalise(doc)


def raw_document(result: RunResult, with_attestations: bool = False) -> dict[str, Any]:
    """The report document before attestations and redaction (never write this one)."""
    rows = [_row(rr, with_attestations) for rr in result.requirements]
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": result.run_id,
            "started": result.started,
            "finished": result.finished,
            "duration": _duration(result.started, result.finished),
            "harness": {"name": "ehds-conformance", "version": result.harness_version},
            "seed": result.seed,
            "settings": _json_safe(result.settings),
            "selection": _json_safe(result.selection),
            "strict": bool(result.strict),
        },
        "profile": {**result.profile.to_json(), "requirements": len(result.profile.requirements)},
        "packages": [_normalise_package(p) for p in _json_safe(result.packages)],
        "sut": _json_safe(result.sut),
        "scope": _json_safe(result.scope),
        "requirements": _json_safe(rows),
        "attestations": None,
    }
    return doc


def finalise(doc: dict[str, Any]) -> dict[str, Any]:
    """Redact everything that came from the SUT or the run, and compute the summary.

    Requirement text declared in the profile (title, statement, references) is
    version-controlled project data, not SUT output, and is kept verbatim.
    """
    profile_parts = [{k: row[k] for k in _PROFILE_FIELDS if k in row} for row in doc["requirements"]]
    body = {k: v for k, v in doc.items() if k not in ("summary", "conclusion", "redaction")}
    body["requirements"] = [{k: v for k, v in row.items() if k not in _PROFILE_FIELDS} for row in doc["requirements"]]
    clean, count = redact_counted(body)
    clean["requirements"] = [{**p, **r} for p, r in zip(profile_parts, clean["requirements"])]
    conclude_document(clean)
    out = {k: clean[k] for k in ORDER if k in clean}
    out["redaction"] = {
        "values": count,
        "note": "Secrets (credentials, tokens, cookies, private keys) were masked as [REDACTED] before writing.",
    }
    return out


def with_attestations(doc: dict[str, Any], attestations: dict[str, Any]) -> dict[str, Any]:
    """A copy of a finished report document with attestations applied (for `conformance report render`).

    A report that already carries attestations is refused: applying a second file
    would mix two sign-offs in one report.
    """
    import copy

    from conformance.errors import UsageError
    from conformance.report.attestations import apply
    from conformance.report.redact import redact_counted

    if doc.get("attestations"):
        raise UsageError(
            f"report already has attestations from {doc['attestations']['source']}; "
            "hint: render from the original run's report.json"
        )
    out = copy.deepcopy(doc)
    apply(out, attestations)
    clean, count = redact_counted(out["attestations"])
    out["attestations"] = clean
    by_id = {a["source"]: a for a in clean["items"]}
    for row in out["requirements"]:
        if "attestations" in row:
            row["attestations"] = [by_id[a["source"]] for a in row["attestations"]]
        if row["verdict"] == "attested":
            row["reason"] = redact_counted(row["reason"])[0]
    conclude_document(out)
    out["redaction"] = {**out["redaction"], "values": out["redaction"]["values"] + count}
    return out
