"""The CDA checks in testcases/cda pass against the reference EHR and fail, each for the right
reason, against EHRs broken in one CDA rule (tests/cda/mutants.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE = "test_ehdsi_cda"
CHECKS = {
    "accepted": "test_valid_ehdsi_patient_summary_is_accepted",
    "schema-invalid": "test_invalid_ehdsi_cda_is_rejected_with_a_reason_and_nothing_stored[schema-invalid]",
    "schematron-invalid": "test_invalid_ehdsi_cda_is_rejected_with_a_reason_and_nothing_stored[schematron-invalid]",
    "not-well-formed": "test_invalid_ehdsi_cda_is_rejected_with_a_reason_and_nothing_stored[not-well-formed]",
    "xxe": "test_hostile_xml_is_refused_and_nothing_stored[xxe]",
    "billion-laughs": "test_hostile_xml_is_refused_and_nothing_stored[billion-laughs]",
    "external-dtd": "test_hostile_xml_is_refused_and_nothing_stored[external-dtd]",
    "bare-doctype": "test_hostile_xml_is_refused_and_nothing_stored[bare-doctype]",
    "export": "test_exported_cda_validates_against_ehdsi_schema_and_schematron",
}


def _outcomes(adapter: str, tmp_path: Path) -> dict[str, str]:
    junit = tmp_path / "junit.xml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "testcases/cda", "-c", "testcases/pytest.ini", "--rootdir", "testcases",
         "-p", "conformance.pytest_plugin", "--conformance-profile", "fr-sesali", "--conformance-adapter", adapter, "-p", "no:cacheprovider", "-q", f"--junitxml={junit}"],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert junit.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    out: dict[str, str] = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        out[case.get("name", "")] = ("failed" if "failure" in kinds else "error" if "error" in kinds
                                     else "skipped" if "skipped" in kinds else "passed")
    return out


EXPECTED_FAILURES = {
    "reference": set(),
    "tests.cda.mutants:schema_only": {"schematron-invalid"},
    "tests.cda.mutants:accepts_dtd": {"xxe", "billion-laughs", "external-dtd", "bare-doctype"},
    "tests.cda.mutants:refuses_only_entities": {"external-dtd", "bare-doctype"},
    "tests.cda.mutants:exports_no_cda": {"export"},
}


@pytest.mark.parametrize("adapter", sorted(EXPECTED_FAILURES))
def test_checks_fail_exactly_where_the_ehr_is_broken(adapter, tmp_path):
    outcomes = _outcomes(adapter, tmp_path)
    assert set(outcomes) == set(CHECKS.values()), sorted(outcomes)
    failed = {key for key, name in CHECKS.items() if outcomes[name] != "passed"}
    assert failed == EXPECTED_FAILURES[adapter], {CHECKS[k]: outcomes[CHECKS[k]] for k in failed}
    assert all(outcomes[CHECKS[k]] == "failed" for k in failed), "a broken EHR must give 'failed', not errors"
