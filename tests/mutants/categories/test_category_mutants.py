"""Must-show for the priority categories, through real `conformance run` invocations:

* the reference EHR passes every category check, under a profile combining the six category
  profiles (so PS-002, EP-002, ED-002, LAB-001/002, HDR-001/002 run too);
* for each mutation kind, the EHR that accepts that kind of invalid input is caught by
  EHDS-INT-012, precisely by the checks for that kind (the other kinds' checks still pass);
* two runs with the same seed and patient namespace give identical verdicts, messages and
  generated evidence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.mutants.categories import CATEGORY_MUTANTS, EXPORT_MUTANTS

ROOT = Path(__file__).resolve().parents[3]
CATEGORY_PROFILES = ["ehds-patient-summary", "ehds-eprescription", "ehds-edispensation", "ehds-laboratory",
                     "ehds-imaging", "ehds-discharge"]
ALL_CATEGORIES = f"""id: all-categories
version: "0.0.1"
title: Every priority category
description: The six category profiles together (test fixture).
fhir_version: "4.0.1"
extends: [{", ".join(CATEGORY_PROFILES)}]
requirements: []
"""


def run(tmp_path: Path, name: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--report-dir", str(tmp_path), "--run-id", name, *args],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((tmp_path / name / "report.json").read_text())


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["nodeid"]: c for row in report["requirements"] for c in row.get("checks", [])
            if c["nodeid"].startswith("categories/")}


def test_reference_ehr_passes_every_category_check(tmp_path: Path) -> None:
    profile = tmp_path / "all-categories.yaml"
    profile.write_text(ALL_CATEGORIES)
    report = run(tmp_path, "reference", "--profile", str(profile), "-k", "categories")
    checks = _checks(report)
    assert len(checks) == 47, sorted(checks)  # 6 categories x (INT-005, INT-008, 4 INT-012 kinds) + 11 category-specific
    failing = {k: c["message"][:300] for k, c in checks.items() if c["verdict"] != "pass"}
    assert not failing, failing
    verdicts = {row["id"]: row["verdict"] for row in report["requirements"]}
    for rid in ("EHDS-INT-005", "EHDS-INT-008", "EHDS-INT-012", "PS-001", "PS-002", "EP-001", "EP-002", "ED-001",
                "ED-002", "LAB-001", "LAB-002", "IMG-001", "HDR-001", "HDR-002"):
        assert verdicts[rid] == "pass", (rid, verdicts[rid])
    assert verdicts["IMG-002"] == "not-tested"  # honest: no manifest check exists


@pytest.mark.parametrize("name", sorted(CATEGORY_MUTANTS))
def test_mutant_accepting_one_kind_is_caught_by_int_012(name: str, tmp_path: Path) -> None:
    mutant = CATEGORY_MUTANTS[name]
    report = run(tmp_path, name, "--adapter", mutant.factory, "-k", "categories and invalid")
    verdicts = {row["id"]: row["verdict"] for row in report["requirements"]}
    assert verdicts[mutant.requirement] == "fail", verdicts[mutant.requirement]
    checks = _checks(report)
    failed = {k for k, c in checks.items() if c["verdict"] == "fail"}
    expected = {k for k in checks if k.endswith(f"-{mutant.kind}]")}
    assert len(expected) == 6 and failed == expected, (
        f"{name} should fail exactly the six [{mutant.kind}] checks; failed: {sorted(failed)}")
    for nodeid in failed:  # the failure names the rule, and the minimal reproducer is in the evidence
        kinds = [e["kind"] for e in checks[nodeid]["evidence"]]
        assert "falsifying-example" in kinds and "mutation" in kinds, kinds
        assert mutant.kind in checks[nodeid]["message"]


def test_export_that_loses_meaning_is_caught_by_int_008(tmp_path: Path) -> None:
    mutant = EXPORT_MUTANTS["rounds_quantities_on_export"]
    report = run(tmp_path, "rounds", "--adapter", mutant.factory, "-k", "categories and not invalid")
    verdicts = {row["id"]: row["verdict"] for row in report["requirements"]}
    assert verdicts["EHDS-INT-008"] == "fail"
    assert verdicts["EHDS-INT-005"] == "pass"  # still valid documents: only the meaning changed
    failed = {k: c for k, c in _checks(report).items() if c["verdict"] == "fail"}
    assert failed and all("round_trip" in k for k in failed), sorted(failed)
    assert any(".value=" in c["message"] for c in failed.values())  # the shrunk example names the quantity


def test_same_seed_same_verdicts_and_evidence(tmp_path: Path) -> None:
    args = ("--adapter", CATEGORY_MUTANTS["accepts_broken_invariants"].factory, "-k",
            "categories and (patient-summary or laboratory)", "--patient-namespace", "SAME")
    first, second = run(tmp_path, "one", *args), run(tmp_path, "two", *args)

    def comparable(report: dict[str, Any]) -> dict[str, Any]:
        return {k: (c["verdict"], c["message"], c["evidence"]) for k, c in _checks(report).items()}

    a, b = comparable(first), comparable(second)
    assert a and a == b
    assert any(v[0] == "fail" for v in a.values()) and any(v[0] == "pass" for v in a.values())
    assert first["run"]["seed"] == second["run"]["seed"] == "derandomized"
