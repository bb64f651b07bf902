"""Our own FHIR output validates: every FHIR artefact the harness writes (the TestReport of a run, the
OperationOutcome of `conformance validate --format json`) gives 0 errors with the default validator,
because every extension it carries is defined in the harness's package (profiles/packages/ehds-harness)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from conformance.cli import main
from conformance.conclusion import NOT_RUN_SELECTION
from conformance.fhir.validator import default_validator
from conformance.model import Verdict
from conformance.report import write_reports
from conformance.resources import fhir_packages_dir
from tests.report.samples import make_run

PACKAGE = fhir_packages_dir() / "ehds-harness"
FIXED = {"EHDS-LOG-002": Verdict.PASS, "EHDS-INT-012": Verdict.PASS, "EHDS-INT-001": Verdict.PASS}


def extension_urls(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for ext in data.get("extension", []) + data.get("modifierExtension", []):
            yield ext["url"]
        for value in data.values():
            yield from extension_urls(value)
    elif isinstance(data, list):
        for value in data:
            yield from extension_urls(value)


def defined_extensions() -> set[str]:
    out = set()
    for path in (PACKAGE / "package").glob("StructureDefinition-*.json"):
        sd = json.loads(path.read_text())
        if sd["type"] == "Extension":
            out.add(sd["url"])
    return out


def errors(resource: dict) -> list[str]:
    return [f"{i.location}: {i.message}" for i in default_validator().validate(resource) if i.is_error]


def _partial():
    run = make_run(changes=FIXED)
    rows = [dataclasses.replace(r, reason=NOT_RUN_SELECTION) if r.requirement.id == "EHDS-GEN-001" else r
            for r in run.requirements]
    return dataclasses.replace(run, requirements=rows, selection={"keyword": "log"})


@pytest.mark.parametrize("make", [make_run, lambda: make_run(changes=FIXED), _partial,
                                  lambda: make_run(changes={**FIXED, "EHDS-GEN-001": Verdict.PASS})],
                         ids=["non-conformant", "incomplete", "partial", "conformant"])
def test_testreport_validates_with_no_error(tmp_path: Path, make, capsys) -> None:
    write_reports(make(), tmp_path, formats=("json", "testreport"))
    tr = json.loads((tmp_path / "testreport.json").read_text())
    assert set(extension_urls(tr)) <= defined_extensions()
    assert errors(tr) == []
    assert main(["validate", str(tmp_path / "testreport.json")]) == 0  # exactly what a user runs
    assert "OK - 0 error(s)" in capsys.readouterr().out


def test_an_attested_testreport_validates(tmp_path: Path) -> None:
    att = tmp_path / "a.yaml"
    att.write_text("attestations:\n  - requirement: EHDS-GEN-001\n    who: J\n    role: QA\n    when: 2025-06-01\n"
                   "    statement: s\n    evidence: {sha256: " + "a" * 64 + "}\n")
    write_reports(make_run(changes=FIXED), tmp_path / "o", formats=("json", "testreport"), attestations=att)
    assert errors(json.loads((tmp_path / "o" / "testreport.json").read_text())) == []


def test_the_validator_catches_an_undefined_extension_or_code(tmp_path: Path) -> None:
    """Control: the check above can fail."""
    write_reports(make_run(), tmp_path, formats=("json", "testreport"))
    tr = json.loads((tmp_path / "testreport.json").read_text())
    tr["test"][0]["extension"][0]["valueCode"] = "passed-ish"
    tr["extension"].append({"url": "https://ehds-conformance.invalid/fhir/StructureDefinition/nope", "valueCode": "x"})
    found = errors(tr)
    assert len(found) == 2 and any("passed-ish" in e for e in found) and any("nope" in e for e in found)


def test_validate_json_output_validates(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resourceType": "Patient", "gender": "robot", "birthDate": "yesterday"}))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"resourceType": "Patient", "gender": "female"}))
    for files in ([bad], [bad, good]):
        capsys.readouterr()
        main(["validate", "--format", "json", *map(str, files)])
        outcome = json.loads(capsys.readouterr().out)
        assert set(extension_urls(outcome)) <= defined_extensions()
        assert "https://ehds-conformance.invalid/fhir/StructureDefinition/issue-rule" in set(extension_urls(outcome))
        assert errors(outcome) == []


def test_the_package_is_what_its_build_script_writes() -> None:
    """The committed package/ is regenerated from build.py (codes taken from the harness itself)."""
    spec = importlib.util.spec_from_file_location("ehds_harness_build", PACKAGE / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = {f"{r['resourceType']}-{r['id']}.json": r for r in module.build()}
    committed = {p.name: json.loads(p.read_text()) for p in (PACKAGE / "package").glob("*.json")
                 if p.name != "package.json"}
    assert committed == built
