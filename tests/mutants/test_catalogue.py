"""Every requirement check can fail: each deliberately broken EHR is caught by the right
requirement and by nothing else.

A few mutants cannot help breaking a second requirement by nature (tests/mutants COLLATERAL
lists each with its reason, e.g. a time without offset is no valid FHIR instant either).

Runs the whole shipped suite (`conformance run`, profile ehds-core, or the one PROFILE_FOR names for
a mutant of a national requirement) against each mutant of the catalogue (tests/mutants/__init__.py).
A mutant breaking requirement R must give R the verdict `fail` and no other requirement `fail` or
`error`. The crashing and hanging mutants must give `error` verdicts (never `fail`) and the run must
complete.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mutants import COLLATERAL, ERROR_MUTANTS, MUTANTS, PROFILE_FOR

ROOT = Path(__file__).resolve().parents[2]


def run_against(factory: str, report_dir: Path, *extra: str) -> dict[str, str]:
    return {row["id"]: row["verdict"] for row in run_report(factory, report_dir, *extra)["requirements"]}


def run_report(factory: str, report_dir: Path, *extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--adapter", factory, "--report-dir", str(report_dir),
         "--run-id", "run", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode in (0, 1, 3), (
        f"the run against {factory} did not complete (exit {result.returncode}):\n"
        + result.stdout[-3000:] + result.stderr[-3000:])
    return json.loads((report_dir / "run" / "report.json").read_text())


@pytest.mark.parametrize("name", sorted(set(MUTANTS) - ERROR_MUTANTS))
def test_mutant_is_caught_by_its_requirement_only(name: str, tmp_path: Path) -> None:
    mutant = MUTANTS[name]
    profile = ("--profile", PROFILE_FOR[name]) if name in PROFILE_FOR else ()
    verdicts = run_against(mutant.factory, tmp_path, *profile)
    assert verdicts[mutant.requirement] == "fail", (
        f"{name} ({mutant.description}) was not caught: {mutant.requirement} is {verdicts[mutant.requirement]}")
    allowed = {mutant.requirement, *COLLATERAL.get(name, {})}
    collateral = {rid: v for rid, v in verdicts.items() if v in ("fail", "error") and rid not in allowed}
    assert not collateral, f"{name} also made other requirements {collateral}: the checks are not specific"


@pytest.mark.parametrize("name", sorted(ERROR_MUTANTS))
def test_crashing_or_hanging_adapter_gives_errors_not_a_crashed_run(name: str, tmp_path: Path) -> None:
    report = run_report(MUTANTS[name].factory, tmp_path, "--adapter-timeout", "2")
    verdicts = {row["id"]: row["verdict"] for row in report["requirements"]}
    errors = sorted(rid for rid, v in verdicts.items() if v == "error")
    fails = sorted(rid for rid, v in verdicts.items() if v == "fail")
    assert errors, f"{name}: no requirement got an error verdict"
    assert not fails, f"{name}: a broken adapter call was reported as non-conformance of {fails}"
    passed = {c["name"] for row in report["requirements"] for c in row["checks"] if c["verdict"] == "pass"}
    assert passed, f"{name}: checks that do not touch the broken call must still pass"
