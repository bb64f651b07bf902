"""The terminal: verdicts that do not lie, no secrets, the conclusion last, machine-readable on demand."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_run_cli import conformance


#: Fixed sandbox passwords (reference adapter config `passwords`), so the test knows what must not leak.
PASSWORDS = {"hp": "Sandbox-hp-7Qx9-secret", "hp_other": "Sandbox-hp2-4Lm2-secret",
             "auditor": "Sandbox-aud-8Zr1-secret", "patient": "Sandbox-pat-3Kd5-secret"}


def test_an_assert_in_adapter_code_is_an_error_not_a_fail(tmp_path: Path) -> None:
    result = conformance("run", "--adapter", "tests.e2e.broken_setups:asserting", "--requirement", "EHDS-INT-002",
                         "--report-dir", "reports", "--run-id", "a", cwd=tmp_path)
    report = json.loads((tmp_path / "reports" / "a" / "report.json").read_text())
    row = next(r for r in report["requirements"] if r["id"] == "EHDS-INT-002")
    assert row["verdict"] == "error", row
    assert any("AssertionError" in c["message"] for c in row["checks"]), row["checks"]
    assert result.returncode == 3, result.stdout[-2000:]
    assert result.stdout.rstrip().splitlines()[-1].startswith("conformance: partial")


def test_a_failing_run_prints_no_sandbox_password(tmp_path: Path) -> None:
    """With -v and pytest's --showlocals the failing check's locals hold a credential built from the real
    password ('wrong-' + password): unmasked, it would be on the terminal."""
    sut = tmp_path / "sut.toml"
    sut.write_text("[passwords]\n" + "".join(f'{k} = "{v}"\n' for k, v in PASSWORDS.items()))
    secrets = set(PASSWORDS.values())
    for extra in ((), ("-v", "--pytest-arg=--showlocals")):
        result = conformance("run", "--adapter", "tests.mutants.accepts_wrong_password:create", "--adapter-config",
                             str(sut), "--requirement", "EHDS-SEC-*", "--report-dir", "reports", *extra, cwd=tmp_path)
        assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
        shown = result.stdout + result.stderr
        leaked = [s for s in secrets if s in shown]
        assert not leaked, f"sandbox password(s) on the terminal with {extra or 'default output'}"
        assert "FAIL" in shown and "EHDS-SEC-006" in shown
        if extra:
            assert "forged     = {'password': '[REDACTED]'}" in shown  # the local was shown, masked


def test_format_json_is_the_table_and_the_conclusion(tmp_path: Path) -> None:
    result = conformance("run", "--format", "json", "--requirement", "EHDS-LOG-00[12]", "--report-dir", "reports",
                         cwd=tmp_path)
    doc = json.loads(result.stdout)
    assert doc["conclusion"]["status"] == "partial" and doc["exit_code"] == result.returncode == 0
    rows = {r["id"]: r["verdict"] for r in doc["requirements"]}
    assert rows["EHDS-LOG-001"] == rows["EHDS-LOG-002"] == "pass"
    assert doc["conclusion"]["selection"]["requirements"] == ["EHDS-LOG-00[12]"]
