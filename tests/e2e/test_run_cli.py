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
def serial_cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One plain `conformance run` (its folder and what the CLI printed), shared by the tests below."""
    cwd = tmp_path_factory.mktemp("serial")
    result = conformance("run", "--report-dir", "reports", "--run-id", "serial", cwd=cwd)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return cwd / "reports" / "serial", result


@pytest.fixture(scope="module")
def serial_run(serial_cli: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    return serial_cli[0]


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
    packages = json.loads((tmp_path / "reports" / "parallel" / "report.json").read_text())["packages"]
    assert {p["name"] for p in packages} >= {"hl7.fhir.r4.core", "hl7.fhir.uv.ips"}  # workers report theirs


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


def _agree(folder: Path, result: subprocess.CompletedProcess[str], status: str, label: str, code: int) -> None:
    """The CLI's last line, its exit code, report.json, report.html and summary.md say the same thing."""
    assert result.returncode == code, result.stdout[-3000:] + result.stderr[-2000:]
    last = result.stdout.rstrip().splitlines()[-1]
    assert last.startswith(f"conformance: {label} (exit {code}"), last
    report = json.loads((folder / "report.json").read_text())
    assert report["summary"]["conclusion"] == status
    assert report["conclusion"]["label"] == label and report["conclusion"]["exit_code"] == code
    assert label in (folder / "report.html").read_text()
    assert status in (folder / "summary.md").read_text()
    assert f'value="{status}"' in (folder / "junit.xml").read_text()


@pytest.mark.usefixtures("verdicts_only")  # its failing run is judged by its conclusion, not its evidence
def test_every_output_agrees_on_the_conclusion(serial_cli: tuple[Path, subprocess.CompletedProcess[str]],
                                               tmp_path: Path) -> None:
    serial_run, incomplete = serial_cli  # the plain reference run is the incomplete one
    rows = json.loads((serial_run / "report.json").read_text())["requirements"]
    untested = [r["id"] for r in rows if r["level"] == "SHALL" and r["verdict"] == "not-tested"]
    assert untested, "the reference run has no untested SHALL requirement: pick another incomplete run"
    _agree(serial_run, incomplete, "incomplete", "incomplete", 0)

    partial = conformance("run", "--requirement", "EHDS-LOG-001", "--report-dir", "reports", "--run-id", "partial",
                          cwd=tmp_path)
    _agree(tmp_path / "reports" / "partial", partial, "partial", "partial", 0)

    failing = conformance("run", "--adapter", "tests.mutants.leaks_restricted_data:create", "--requirement",
                          "EHDS-SEC-007", "--report-dir", "reports", "--run-id", "failing", cwd=tmp_path)
    _agree(tmp_path / "reports" / "failing", failing, "non-conformant", "non-conformant", 1)

    attest = tmp_path / "attest.yaml"
    attest.write_text("attestations:\n" + "".join(
        f"  - requirement: {rid}\n    who: A. Person (test)\n    role: Quality Manager\n    when: 2026-12-01\n"
        f"    statement: checked by hand for this test\n    evidence:\n      reference: docs/{rid}.pdf\n"
        for rid in untested))
    conformant = conformance("run", "--attestations", str(attest), "--report-dir", "reports", "--run-id", "ok",
                             cwd=tmp_path)
    _agree(tmp_path / "reports" / "ok", conformant, "conformant", f"conformant ({len(untested)} attested)", 0)
