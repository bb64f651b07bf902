"""Every Sesali check can fail: each broken EHR (or client) of tests/mutants/sesali gives its own
French requirement the verdict ``fail`` and no other requirement ``fail`` or ``error``.

Each case is a full ``conformance run`` of the mutant's profile (fr-sesali about half a minute,
fr-sesali-client a few seconds), in a subprocess like a vendor's run.
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


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_sesali_mutant_is_caught_by_its_requirement_only(name: str, tmp_path: Path) -> None:
    mutant = MUTANTS[name]
    verdicts = verdicts_of(mutant.factory, PROFILE.get(name, "fr-sesali"), tmp_path)
    assert verdicts[mutant.requirement] == "fail", (
        f"{name} ({mutant.description}) was not caught: {mutant.requirement} is {verdicts[mutant.requirement]}")
    others = {rid: v for rid, v in verdicts.items() if v in ("fail", "error") and rid != mutant.requirement}
    assert not others, f"{name} also made other requirements {others}: the checks are not specific"


def test_every_new_french_requirement_has_a_mutant() -> None:
    caught = {m.requirement for m in MUTANTS.values()}
    assert {"FR-002", "FR-003", "FR-004", "FR-005", "FR-CLI-001", "FR-CLI-002", "FR-CLI-003", "FR-CLI-004"} <= caught
