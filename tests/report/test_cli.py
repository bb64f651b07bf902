"""`conformance report ...` end to end through the real CLI entry point (exit codes, messages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main
from conformance.model import Verdict
from conformance.report import load_report, write_reports
from tests.report.samples import make_run


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    ref = tmp_path / "reports" / "ref"
    mutant = tmp_path / "reports" / "mutant"
    write_reports(make_run("ref"), ref)
    write_reports(make_run("mutant", changes={"EHDS-LOG-001": Verdict.FAIL}), mutant)
    return ref, mutant


def test_keygen_sign_verify_and_tamper(runs, tmp_path: Path, capsys) -> None:
    ref, _ = runs
    key = tmp_path / "signing.pem"
    assert main(["report", "keygen", str(key)]) == 0
    pub = tmp_path / "signing.pub.pem"
    assert pub.is_file()
    assert main(["report", "sign", str(ref), "--key", str(key)]) == 0
    assert (ref / "manifest.jws").is_file()
    capsys.readouterr()
    assert main(["report", "verify", str(ref), "--key", str(pub)]) == 0
    assert "signature by key" in capsys.readouterr().out
    data = bytearray((ref / "report.html").read_bytes())
    data[2000] ^= 0x20
    (ref / "report.html").write_bytes(bytes(data))
    assert main(["report", "verify", str(ref), "--key", str(pub)]) == 1
    captured = capsys.readouterr()
    assert f"FAILED {ref}/report.html: content changed" in captured.out
    assert "cannot be trusted" in captured.err


def test_verify_with_private_key_uses_only_its_public_part(runs, tmp_path: Path, capsys) -> None:
    ref, _ = runs
    key = tmp_path / "k.pem"
    main(["report", "keygen", str(key)])
    main(["report", "sign", str(ref), "--key", str(key)])
    assert main(["report", "verify", str(ref), "--key", str(key), "--format", "json"]) == 0
    assert '"authenticated": true' in capsys.readouterr().out


def test_encrypted_key_via_environment(runs, tmp_path: Path, monkeypatch) -> None:
    ref, _ = runs
    monkeypatch.setenv("REPORT_KEY_PASSWORD", "s3cret phrase")
    key = tmp_path / "enc.pem"
    assert main(["report", "keygen", str(key), "--password-env", "REPORT_KEY_PASSWORD"]) == 0
    assert main(["report", "sign", str(ref), "--key", str(key)]) == 2
    assert main(["report", "sign", str(ref), "--key", str(key), "--password-env", "REPORT_KEY_PASSWORD"]) == 0
    assert main(["report", "sign", str(ref), "--key", str(key), "--password-env", "UNSET_VAR_X"]) == 2


def test_diff_reference_vs_mutant_gates_on_the_regression(runs, capsys) -> None:
    ref, mutant = runs
    assert main(["report", "diff", str(ref), str(mutant)]) == 1  # a SHALL regression gates by default
    out = capsys.readouterr().out
    assert "REGRESSION    EHDS-LOG-001 [SHALL] pass -> fail" in out
    assert "FAILED: 1 gating change(s) among SHALL requirements: EHDS-LOG-001" in out and "OK" not in out
    assert "conclusion: non-conformant" in out.splitlines()[1]  # each side's conclusion in the header
    assert main(["report", "diff", str(ref), str(mutant), "--fail-on", "none"]) == 0  # asked for a listing only
    out = capsys.readouterr().out
    assert "NOT GATED: 1 SHALL regression(s): EHDS-LOG-001" in out and "OK" not in out
    assert main(["report", "diff", str(ref), str(mutant), "--fail-on", "regression"]) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert lines == ["  REGRESSION    EHDS-LOG-001 [SHALL] pass -> fail  Every access is logged"]
    assert "FAILED: 1 gating change(s) among SHALL requirements: EHDS-LOG-001" in out
    assert main(["report", "diff", str(ref), str(ref / "report.json"), "--fail-on", "regression"]) == 0
    assert main(["report", "diff", str(mutant), str(ref), "--fail-on", "regression"]) == 0  # an improvement
    assert main(["report", "diff", str(ref), str(mutant), "--format", "markdown"]) == 1
    assert "| ❌ regression | EHDS-LOG-001 Every access is logged | SHALL | pass | fail |" in capsys.readouterr().out


def test_diff_usage_errors(runs, tmp_path: Path, capsys) -> None:
    ref, _ = runs
    assert main(["report", "diff", str(ref), str(tmp_path / "missing")]) == 2
    assert "no such report" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{ not json")
    assert main(["report", "diff", str(ref), str(tmp_path / "bad.json")]) == 2
    assert "bad.json:1:3: not valid JSON" in capsys.readouterr().err


def test_summary_prints_markdown(runs, capsys) -> None:
    ref, _ = runs
    assert main(["report", "summary", str(ref)]) == 0
    assert capsys.readouterr().out.startswith("## ❌ EHDS conformance: non-conformant")


def test_render_with_attestations(runs, tmp_path: Path, capsys) -> None:
    ref, _ = runs
    att = tmp_path / "attestations.yaml"
    att.write_text(
        "attestations:\n"
        "  - requirement: EHDS-GEN-001\n"
        "    who: Jane Doe\n"
        "    role: Quality Manager\n"
        "    when: 2025-06-01\n"
        "    statement: Instructions for use ship with every release.\n"
        "    evidence: {reference: docs/ifu/}\n"
    )
    out = tmp_path / "rendered"
    assert main(["report", "render", str(ref), str(out), "--attestations", str(att)]) == 0
    doc = load_report(out)
    row = next(r for r in doc["requirements"] if r["id"] == "EHDS-GEN-001")
    assert row["verdict"] == "attested"
    assert doc["summary"]["total"]["attested"] == 1
    assert main(["report", "verify", str(out)]) == 0
    # attesting twice is refused
    assert main(["report", "render", str(out), str(tmp_path / "again"), "--attestations", str(att)]) == 2
    assert "already has attestations" in capsys.readouterr().err
    # rendering into a folder that holds a report is refused (exit 2) unless --force
    assert main(["report", "render", str(ref), str(out)]) == 2
    assert "already holds a report" in capsys.readouterr().err
    assert main(["report", "render", str(ref), str(out), "--force"]) == 0
    assert load_report(out)["summary"]["total"]["attested"] == 0


def test_render_rejects_unknown_format(runs, tmp_path: Path, capsys) -> None:
    ref, _ = runs
    assert main(["report", "render", str(ref), str(tmp_path / "o"), "--formats", "json,pdf"]) == 2
    assert "--formats: unknown pdf" in capsys.readouterr().err


def test_report_without_subcommand_shows_help(capsys) -> None:
    assert main(["report"]) == 2
    assert "keygen" in capsys.readouterr().out


def test_verify_on_missing_directory_is_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["report", "verify", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
