"""Writes the ehds-harness package: the definitions of every extension the harness puts into FHIR it writes.

Why: the FHIR TestReport (reports/<run-id>/testreport.json) and the OperationOutcome of
`conformance validate --format json` carry harness-specific extensions (the run's
conclusion, each requirement's verdict, level and category, the rule behind a validation
issue). An extension defined nowhere makes our own output fail validation, so a FHIR
tool cannot check what we hand it. This package defines them, with the code systems and
value sets of their codes taken from the harness itself (conformance.model,
conformance.conclusion), so they cannot drift. The output under package/ is committed and
loaded by default with the other packages under profiles/packages/; the harness never runs
this script. Regenerate: `python profiles/packages/ehds-harness/build.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.conclusion import CONCLUSIONS
from conformance.model import Category, Level, Verdict

CANONICAL = "https://ehds-conformance.invalid/fhir"
SD = f"{CANONICAL}/StructureDefinition"
VERSION = "0.1.0"
CORE = "http://hl7.org/fhir/StructureDefinition"
PUBLISHER = "ehds-conformance project"

#: (id, title, codes with their meaning)
CODE_SYSTEMS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("conclusion", "Conclusion of a conformance run", [
        ("conformant", "Every SHALL requirement passed, was attested, or was excluded by a scope rule."),
        ("non-conformant", "A SHALL requirement failed."),
        ("incomplete", "No SHALL requirement failed, but one could not be decided or was not tested."),
        ("partial", "The run was narrowed by a selection; a partial run is never conformant."),
    ]),
    ("requirement-verdict", "Verdict of a requirement", [
        ("fail", "A check observed the system breaking the requirement."),
        ("error", "A check could not decide (adapter crash, timeout, harness problem)."),
        ("pass", "Every check that ran passed."),
        ("attested", "No check can decide it; a person attested it, with evidence."),
        ("not-applicable", "Excluded by the system's declared scope (a rule of the profile)."),
        ("not-tested", "No check exists or ran for it."),
    ]),
    ("requirement-level", "Obligation level of a requirement", [
        ("SHALL", "Mandatory."), ("SHOULD", "Recommended."), ("MAY", "Optional."),
    ]),
    ("requirement-category", "Category of a requirement", [
        ("interoperability", "Interoperability component (EEHRxF)."),
        ("logging", "Logging component."),
        ("security", "Security and access control."),
        ("general", "General requirements (documentation, organisation)."),
    ]),
]

#: (id, title, description, context expression, value type, code system bound to or None)
EXTENSIONS: list[tuple[str, str, str, str, str, str | None]] = [
    ("conclusion", "Conclusion of the run",
     "The run's conclusion for its SHALL requirements, as computed by conformance.conclusion.conclude (the "
     "same value report.json, report.html, summary.md and junit.xml show).", "TestReport", "code", "conclusion"),
    ("conclusion-explanation", "Why the run concluded so",
     "The conclusion's label (e.g. 'conformant (2 attested)'), its one-paragraph explanation and the SHALL "
     "requirements that blocked conformance.", "TestReport", "string", None),
    ("requirement-verdict", "Verdict of the requirement",
     "The exact verdict of the requirement this test stands for (TestReport.action.assert.result only has "
     "pass / skip / fail / warning / error).", "TestReport.test", "code", "requirement-verdict"),
    ("requirement-level", "Level of the requirement",
     "SHALL, SHOULD or MAY, as declared in the requirement profile.", "TestReport.test", "code",
     "requirement-level"),
    ("requirement-category", "Category of the requirement",
     "The requirement's category in the requirement profile.", "TestReport.test", "code", "requirement-category"),
    ("issue-rule", "Rule behind a validation issue",
     "The rule (constraint key, element id, schema or Schematron rule) a validation issue comes from.",
     "OperationOutcome.issue", "string", None),
]


def _name(text: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in text.replace("-", " ").split())


def _common(kind: str, rid: str, title: str, description: str) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "id": rid,
        "url": f"{CANONICAL}/{kind}/{rid}",
        "version": VERSION,
        "name": _name(rid),
        "title": title,
        "status": "draft",
        "experimental": True,
        "publisher": PUBLISHER,
        "description": description,
    }


def code_system(rid: str, title: str, codes: list[tuple[str, str]]) -> dict[str, Any]:
    out = _common("CodeSystem", rid, title, f"{title}, as the ehds-conformance harness reports it.")
    out.update({"caseSensitive": True, "valueSet": f"{CANONICAL}/ValueSet/{rid}", "content": "complete",
                "count": len(codes),
                "concept": [{"code": c, "display": c, "definition": d} for c, d in codes]})
    return out


def value_set(rid: str, title: str) -> dict[str, Any]:
    out = _common("ValueSet", rid, title, f"Every code of the CodeSystem {rid}.")
    out["compose"] = {"include": [{"system": f"{CANONICAL}/CodeSystem/{rid}"}]}
    return out


def extension(rid: str, title: str, description: str, context: str, value_type: str,
              bound_to: str | None) -> dict[str, Any]:
    url = f"{SD}/{rid}"
    value: dict[str, Any] = {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1,
                             "type": [{"code": value_type}]}
    if bound_to:
        value["binding"] = {"strength": "required", "valueSet": f"{CANONICAL}/ValueSet/{bound_to}"}
    out = _common("StructureDefinition", rid, title, description)
    out.update({
        "fhirVersion": "4.0.1",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": context}],
        "type": "Extension",
        "baseDefinition": f"{CORE}/Extension",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension", "path": "Extension", "short": title, "definition": description, "max": "1"},
            {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
            {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
            value,
        ]},
    })
    return out


def build() -> list[dict[str, Any]]:
    expected = {"conclusion": set(CONCLUSIONS), "requirement-verdict": {v.value for v in Verdict},
                "requirement-level": {v.value for v in Level}, "requirement-category": {c.value for c in Category}}
    out: list[dict[str, Any]] = []
    for rid, title, codes in CODE_SYSTEMS:
        assert {c for c, _ in codes} == expected[rid], f"{rid}: codes differ from the harness's"
        out += [code_system(rid, title, codes), value_set(rid, title)]
    out += [extension(*e) for e in EXTENSIONS]
    return out


def main() -> None:
    target = Path(__file__).resolve().parent / "package"
    target.mkdir(exist_ok=True)
    for old in target.glob("*.json"):
        old.unlink()
    for resource in build():
        path = target / f"{resource['resourceType']}-{resource['id']}.json"
        path.write_text(json.dumps(resource, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    manifest = {
        "name": "ehds.conformance.harness",
        "version": VERSION,
        "type": "IG",
        "canonical": CANONICAL,
        "title": "Extensions of the ehds-conformance harness",
        "description": "The extensions (and their code systems) that the ehds-conformance harness writes into its "
                       "FHIR output: the TestReport of a run and the OperationOutcome of `conformance validate`.",
        "license": "Apache-2.0",
        "fhirVersions": ["4.0.1"],
        "dependencies": {"hl7.fhir.r4.core": "4.0.1"},
        "author": PUBLISHER,
    }
    (target / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
