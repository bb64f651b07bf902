"""`conformance coverage` collects the shipped checks with the (opt-in) plugin and says which requirements have none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_coverage_lists_checked_and_unchecked_requirements(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "conformance.cli", "coverage", "--profile", "fr-sesali", "--format",
                          "json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout)
    checks = {r["id"]: r["checks"] for r in doc["requirements"]}
    for rid in ("FR-002", "FR-003", "FR-004", "EHDS-LOG-001", "EHDS-INT-005"):
        assert checks[rid] > 0, rid
    assert "EHDS-GEN-002" in doc["without_checks"]
