"""Every Sesali check can fail: each broken EHR (or client) of tests/mutants/sesali gives its own
French requirement the verdict ``fail`` and no other requirement ``fail`` or ``error``.

In CI each mutant runs in process against the national requirements (FR-*, XB-*: what these mutants
can reach, since each overrides a Sesali-only rule of the reference); ``--run-slow`` also runs every
mutant against its whole profile in a subprocess, like a vendor's run, to show no EHDS core
requirement is touched either.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mutants.sesali import MUTANTS, PROFILE

ROOT = Path(__file__).resolve().parents[3]


def verdicts_of(factory: str, profile: str, report_dir: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--profile", profile, "--adapter", factory,
         "--report-dir", str(report_dir), "--run-id", "run", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    report = report_dir / "run" / "report.json"
    assert report.exists(), (f"the run against {factory} did not complete (exit {result.returncode}):\n"
                             + result.stdout[-3000:] + result.stderr[-3000:])
    return {row["id"]: row["verdict"] for row in json.loads(report.read_text())["requirements"]}


def _check(name: str, verdicts: dict[str, str]) -> None:
    mutant = MUTANTS[name]
    assert verdicts[mutant.requirement] == "fail", (
        f"{name} ({mutant.description}) was not caught: {mutant.requirement} is {verdicts[mutant.requirement]}")
    others = {rid: v for rid, v in verdicts.items() if v in ("fail", "error") and rid != mutant.requirement}
    assert not others, f"{name} also made other requirements {others}: the checks are not specific"


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_sesali_mutant_fails_its_national_requirement_only(name: str, tmp_path: Path) -> None:
    from tests.mutants.runner import run_report
    from tests.mutants.runner import verdicts_of as table

    report = run_report(MUTANTS[name].factory, tmp_path, "--profile", PROFILE.get(name, "fr-sesali"),
                        "--requirement", "FR-*", "--requirement", "XB-*", "-q")
    verdicts = {rid: v for rid, v in table(report).items() if rid.startswith(("FR-", "XB-"))}
    _check(name, verdicts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_sesali_mutant_is_caught_by_its_requirement_only_in_the_whole_profile(name: str, tmp_path: Path) -> None:
    _check(name, verdicts_of(MUTANTS[name].factory, PROFILE.get(name, "fr-sesali"), tmp_path))


def test_every_new_french_requirement_has_a_mutant() -> None:
    caught = {m.requirement for m in MUTANTS.values()}
    assert {"FR-002", "FR-003", "FR-004", "FR-005", "FR-CLI-001", "FR-CLI-002", "FR-CLI-003", "FR-CLI-004"} <= caught
