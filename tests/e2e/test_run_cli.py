"""`conformance run` end to end against the embedded reference EHR (real SQLite, real checks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def conformance(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


def verdicts(report_dir: Path) -> dict[str, str]:
    report = json.loads((report_dir / "report.json").read_text())
    return {row["id"]: row["verdict"] for row in report["requirements"]}


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("serial")
    result = conformance("run", "--report-dir", "reports", "--run-id", "serial", cwd=cwd)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return cwd / "reports" / "serial"


def test_run_writes_the_reports_with_every_requirement_once(serial_run: Path) -> None:
    from conformance.profiles import load_profile

    for name in ("report.json", "report.html", "junit.xml", "manifest.json"):
        assert (serial_run / name).is_file(), name
    rows = json.loads((serial_run / "report.json").read_text())["requirements"]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) == load_profile("ehds-core").requirement_ids


def test_reference_passes_every_shall_it_has_a_check_for(serial_run: Path) -> None:
    report = json.loads((serial_run / "report.json").read_text())
    bad = [(r["id"], r["verdict"]) for r in report["requirements"]
           if r["level"] == "SHALL" and r["verdict"] in ("fail", "error")]
    assert not bad, bad
    untested_checked = [r["id"] for r in report["requirements"] if r["verdict"] == "not-tested" and r["checks"]]
    assert not untested_checked, f"checks were inconclusive on the reference EHR: {untested_checked}"


def test_parallel_run_gives_the_same_verdicts(serial_run: Path, tmp_path: Path) -> None:
    result = conformance("run", "-n", "2", "--report-dir", "reports", "--run-id", "parallel", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert verdicts(tmp_path / "reports" / "parallel") == verdicts(serial_run)


def test_strict_fails_while_shall_requirements_are_not_tested(serial_run: Path, tmp_path: Path) -> None:
    if all(v in ("pass", "not-applicable") for v in verdicts(serial_run).values()):
        pytest.fail("every requirement passes: replace this test by one that breaks a requirement")
    result = conformance("run", "--strict", "--report-dir", "reports", cwd=tmp_path)
    assert result.returncode == 3, result.stderr[-2000:]  # incomplete under --strict: undecided, not a failure
    assert "conformance: incomplete (exit 3, strict)" in result.stdout
    assert "have no decisive check" in result.stdout  # what blocked it is said


@pytest.mark.parametrize(("args", "needle"), [
    (("run", "--adapter", "refrence"), "Did you mean 'reference'"),
    (("run", "--profile", "ehds-kore"), "ehds-core"),
    (("run", "--adapter", "no_such_module:create"), "cannot import adapter module"),
])
def test_usage_errors_exit_2_with_a_hint(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    result = conformance(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr, result.stderr
